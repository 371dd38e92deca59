/*
 * xml_tag.h - read the text of one element of the small XML answers of
 * object stores (listings, errors)
 *
 * Not an XML parser: a scan for "<tag>" and the next "</tag>", with the
 * five predefined entities decoded.  Enough for the flat, machine-written
 * replies of S3, GCS and Azure, and bounded: it never reads past the
 * NUL of p nor writes more than cap bytes.  Pure and thread-safe; fuzzed
 * (tests/fuzz/fuzz_xml.c).
 */
#ifndef PGA_XML_TAG_H
#define PGA_XML_TAG_H

#include <stddef.h>

/*
 * The text of the first <tag>...</tag> at or after p into out (empty when
 * there is none); returns a pointer after the closing tag, or NULL when
 * absent, unclosed, or longer than cap - 1 bytes.  tag is a short literal
 * name (at most 60 bytes).
 */
const char *xml_tag(const char *p, const char *tag, char *out, size_t cap);

#endif
