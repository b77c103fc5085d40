/* layout_index_edit: editing the index.json of an OCI image layout that
 * this registry writes (layout push, docs/design-layout-push.md). Pure: no
 * I/O, so every rule is unit-tested; the layout writer store does the MFS
 * reads and writes around it, one writer at a time.
 *
 * The document is edited as JSON objects, so what this module does not know
 * (platform, annotations other than the ref name, artifactType, fields of
 * a later spec) survives every edit. Tags are descriptors carrying the
 * org.opencontainers.image.ref.name annotation, one tag per descriptor; a
 * manifest that loses its last tag keeps an untagged descriptor, so the
 * layout still holds it (a registry keeps a manifest when its tag moves or
 * goes: it is deleted by digest). */
#ifndef OCI_LAYOUT_INDEX_EDIT_H
#define OCI_LAYOUT_INDEX_EDIT_H
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "core/digest.h"

#define LAYOUT_REF_NAME "org.opencontainers.image.ref.name"

/* What a new descriptor says. artifact_type may be NULL. */
struct layout_desc {
    const char *media_type;
    struct digest digest;
    uint64_t size;
    const char *artifact_type;
};

/* An empty index: schemaVersion 2, the OCI index media type, no
 * manifests. The caller owns it (json_object_put). */
json_object *layout_ixe_new(void);
/* Parses index.json text into an editable document: an object whose
 * "manifests" is an array of objects each with a string "digest" that
 * parses. 0 with *out (caller puts), or -1 with *err (caller frees)
 * saying what is wrong; a document refused here is never rewritten. */
int layout_ixe_load(const char *data, size_t len, json_object **out, char **err);
/* Points tag at d. The descriptor that carried tag before loses it (and
 * stays, untagged, unless another descriptor still holds its digest); an
 * untagged descriptor of d's digest takes the tag, else a new one is
 * appended. Returns 1 if the document changed, 0 if tag already named d. */
int layout_ixe_set_tag(json_object *ix, const char *tag, const struct layout_desc *d);
/* Makes sure some descriptor holds d's digest (appends an untagged one if
 * none does). Returns 1 if it appended. */
int layout_ixe_hold(json_object *ix, const struct layout_desc *d);
/* Takes tag off its descriptor (which stays untagged unless another
 * descriptor holds its digest). Returns 1 if tag was there, 0 if not. */
int layout_ixe_untag(json_object *ix, const char *tag);
/* Removes every descriptor of digest d (its tags with it). Returns how
 * many went. */
size_t layout_ixe_remove(json_object *ix, const struct digest *d);
/* The document as index.json text (json-c's pretty, spaced form, "/"
 * unescaped), caller frees. */
char *layout_ixe_text(json_object *ix);

#endif
