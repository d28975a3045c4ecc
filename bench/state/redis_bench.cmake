# Redis global tier benchmark (bench/state/redis_bench.c): push/pull against
# redis-benchmark's raw SET/GET. Included from bench/state/CMakeLists.txt.
add_executable(bench_state_redis ${CMAKE_CURRENT_LIST_DIR}/redis_bench.c)
target_link_libraries(bench_state_redis PRIVATE faaslet_state)
