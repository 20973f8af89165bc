#include "kernels.h"
#include "pool.h"
#include "memory.h"
#include "panels.h"
