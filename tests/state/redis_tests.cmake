# The Redis global tier (src/state/global_redis.c): each test starts its own
# redis-server (Debian's) on a free loopback port and stops it. Included from
# tests/state/CMakeLists.txt; skipped when redis-server is not installed.
find_program(FL_REDIS_SERVER redis-server)
if(FL_REDIS_SERVER)
  add_executable(test_redis_state ${CMAKE_CURRENT_LIST_DIR}/redis_test.c)
  target_link_libraries(test_redis_state PRIVATE faaslet_state)
  foreach(t test_value_pushed_by_one_process_is_pulled_by_another
            test_concurrent_appends_from_two_processes_lose_nothing
            test_counter_under_global_lock_from_two_processes_is_exact
            test_partial_push_sends_only_dirty_chunks
            test_readers_never_see_a_half_written_value
            test_redis_killed_mid_run_gives_clean_errors_then_recovers
            test_lease_expiry_frees_the_lock_of_a_killed_holder
            test_unreachable_redis_is_a_clear_error
            test_backend_agrees_with_the_in_process_tier)
    add_test(NAME state.redis.${t} COMMAND test_redis_state ${t} ${FL_REDIS_SERVER})
    set_tests_properties(state.redis.${t} PROPERTIES TIMEOUT 120 LABELS redis)
  endforeach()
else()
  message(WARNING "redis-server not found: the Redis state tests are skipped (scripts/setup installs it)")
endif()

# Separate `faaslet invoke --redis` processes running a guest function
# (funcs/state_shared.c) share one Redis.
if(FL_REDIS_SERVER AND TARGET faaslet_exec AND COMMAND fl_add_faaslet_func)
  fl_add_faaslet_func(state_func_state_shared OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/funcs/state_shared.wasm
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/funcs/state_shared.c)
  add_test(NAME state.redis.faaslet_processes_share_state_through_redis
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/redis_processes.sh $<TARGET_FILE:faaslet>
            ${CMAKE_CURRENT_BINARY_DIR}/funcs/state_shared.wasm ${FL_REDIS_SERVER})
  set_tests_properties(state.redis.faaslet_processes_share_state_through_redis
    PROPERTIES TIMEOUT 180 LABELS redis)
endif()
