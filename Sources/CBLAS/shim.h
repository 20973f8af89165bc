#include <cblas.h>
// Declared by OpenBLAS but not in the reference cblas.h; lets model info report the kernel in use.
char *openblas_get_corename(void);
char *openblas_get_config(void);
int openblas_get_num_threads(void);
