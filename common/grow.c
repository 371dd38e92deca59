/* Capped array growth; the contract is in grow.h. */
#include "common/grow.h"

#include <stdint.h>
#include <stdlib.h>

#define GROW_FIRST 16

int
pga_grow(void **v, size_t *cap, size_t need, size_t elem, size_t max,
	 struct pga_err *err)
{
	size_t n = *cap ? *cap : GROW_FIRST;
	void *p;

	if (need <= *cap)
		return 0;
	if (elem > 0 && max > SIZE_MAX / elem)
		max = SIZE_MAX / elem;
	if (need > max)
		return pga_fail(err, PGA_EINVAL, "more than %zu entries", max);
	while (n < need && n <= max / 2)
		n *= 2;
	if (n < need || n > max)	/* the next doubling would pass max */
		n = max;
	p = reallocarray(*v, n, elem);
	if (p == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	*v = p;
	*cap = n;
	return 0;
}
