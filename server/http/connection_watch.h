// Finding, and watching, the socket an HTTP request arrived on.
//
// cpp-httplib hands handlers the request but not its connection, and a handler blocked waiting for
// the engine would otherwise never learn that its client went away (a request generating for a
// closed connection holds KV blocks until max_tokens). The socket is found from the request's
// addresses: under TLS through the SSL object; in plaintext by matching the (local, remote)
// address pair among the process's sockets, once per connection (a connection keeps its thread,
// so the answer is cached per thread).
#ifndef EMBER_SERVER_HTTP_CONNECTION_WATCH_H_
#define EMBER_SERVER_HTTP_CONNECTION_WATCH_H_

#include "httplib.h"

namespace ember::http {

// The connection's socket, or -1 when it cannot be found (then nothing watches it: requests run
// to their end as if the client stayed).
int ConnectionFd(const httplib::Request& request);

// True when the peer has closed or reset the connection (a half-close counts: an HTTP/1.1 client
// that shuts its side down is gone). Never blocks. False for fd -1.
bool PeerClosed(int fd);

}  // namespace ember::http

#endif  // EMBER_SERVER_HTTP_CONNECTION_WATCH_H_
