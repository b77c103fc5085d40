/* ui: the read-only web view (README "Web view"), served on /ui/ when the
 * setting ui is on: server-rendered HTML pages of what the registry holds
 * (repositories, a repository's tags, a manifest, the registry's own IPFS
 * state) and one stylesheet, with no script and no outside resource.
 * Only GET and HEAD; anything else is 405. */
#ifndef CORE_UI_UI_H
#define CORE_UI_UI_H
#include "core/http.h"
#include "core/registry/registry.h"

/* 1 when req->path is the view's (under /ui/) and the view is on: the
 * request was answered completely. 0: not the view's; route it as usual. */
int ui_handle(struct registry *reg, struct request *req, struct response *resp);

#endif
