#ifndef HELLOTUNE_MEMORY_H
#define HELLOTUNE_MEMORY_H
/// Training allocates and frees hundreds of 0.1-2 MB activation buffers per step. glibc serves
/// those with mmap and hands them back with munmap, page-faulting every step; this keeps freed
/// memory in the heap for reuse instead.
void ht_keep_freed_memory(void);
#endif
