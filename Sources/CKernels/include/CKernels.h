#include "kernels.h"
#include "pool.h"
