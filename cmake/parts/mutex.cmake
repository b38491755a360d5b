# SPDX-License-Identifier: MIT
# ferry_mutex: the benchmark against pthread_mutex_t (bench/mutex.c).
ferry_add_bench(mutex SOURCES ${PROJECT_SOURCE_DIR}/bench/mutex.c)
