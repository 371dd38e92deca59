/*
 * grow.h - one way to grow an array, with a maximum (git's ALLOC_GROW idea)
 *
 *     if (PGA_GROW(l->v, l->cap, l->n + 1, LIST_MAX, err) < 0)
 *             return err->code;
 *     l->v[l->n++] = x;
 *
 * The capacity (counted in elements, a size_t) doubles from 16, and never
 * passes max (elements): asking for more than max fails instead of growing,
 * so memory stays bounded whatever the input.  On failure the array and its
 * capacity are unchanged.  err may be NULL (for callers that only count).
 * Plain data; the caller serializes access to its array.
 */
#ifndef PGA_GROW_H
#define PGA_GROW_H

#include <stddef.h>

#include "common/err.h"

/* 0, PGA_EINVAL when need > max ("more than N entries"), PGA_ENOMEM. */
int pga_grow(void **v, size_t *cap, size_t need, size_t elem, size_t max,
	     struct pga_err *err);

#define PGA_GROW(arr, cap, need, max, err) \
	pga_grow((void **)&(arr), &(cap), (need), sizeof(*(arr)), (max), (err))

#endif
