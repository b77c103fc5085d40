/* multiaddr: the few multiaddr forms a Kubo API address takes, turned into
 * something libcurl can dial. */
#ifndef IPFS_MULTIADDR_H
#define IPFS_MULTIADDR_H

/* /ip4/<a>/tcp/<p>, /ip6/<a>/tcp/<p>, /dns/<h>/tcp/<p>, /dns4/..., /dns6/...
 *   -> base_url "http://<host>:<p>" (IPv6 in brackets), unix_path NULL
 * /unix/<path> -> base_url "http://localhost", unix_path "<path>"
 * An optional trailing /http is accepted. Also accepts a plain http://host:port URL.
 * 0 ok (caller frees both), -1 invalid: *err gets a message (caller frees). */
int multiaddr_to_url(const char *maddr, char **base_url, char **unix_path, char **err);

#endif
