/* The element scanner of xml_tag.h. */
#include "ship/xml_tag.h"

#include <stdio.h>
#include <string.h>

static void
decode(const char *in, size_t n, char *out)
{
	static const struct { const char *ent; char c; } ents[] = {
		{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''},
	};
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		size_t k;

		for (k = 0; k < sizeof(ents) / sizeof(ents[0]); k++) {
			size_t el = strlen(ents[k].ent);

			if (i + el <= n && strncmp(in + i, ents[k].ent, el) == 0) {
				out[o++] = ents[k].c;
				i += el;
				break;
			}
		}
		if (k == sizeof(ents) / sizeof(ents[0]))
			out[o++] = in[i++];
	}
	out[o] = '\0';
}

const char *
xml_tag(const char *p, const char *tag, char *out, size_t cap)
{
	char open[64], close[64];
	const char *s, *e;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	if (cap > 0)
		out[0] = '\0';
	s = strstr(p, open);
	if (s == NULL)
		return NULL;
	s += strlen(open);
	e = strstr(s, close);
	if (e == NULL || (size_t)(e - s) >= cap)
		return NULL;
	decode(s, (size_t)(e - s), out);
	return e + strlen(close);
}
