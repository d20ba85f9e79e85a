/* A tiny libstrophe client for the e2e tests.
 *
 *   strophe_client HOST PORT JID PASSWORD [options]
 *     --direct-tls        TLS from the first byte (XEP-0368) instead of STARTTLS
 *     --send-to JID       after the session starts, send one chat message there
 *     --body TEXT         its body (default "hello from strophe")
 *     --expect N          exit after N messages with a body were received (default 0)
 *     --timeout SECONDS   give up after that long (default 15)
 *
 * libstrophe negotiates STARTTLS and picks the SASL mechanism itself; the
 * self-signed test certificate is trusted with XMPP_CONN_FLAG_TRUST_TLS.
 * Output, one line per event, on stdout (flushed at once):
 *   BOUND <full jid>
 *   SENT <to>
 *   MSG from=<from> type=<type> body=<body>
 *   DONE            (all expected messages arrived, clean disconnect)
 *   ERROR <what>
 * Exit code 0 only when everything expected happened.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <strophe.h>

struct state {
  xmpp_ctx_t *ctx;
  const char *send_to;
  const char *body;
  int expect;
  int received;
  int bound;
  int failed;
  int done;
};

static void finish(xmpp_conn_t *conn, struct state *st) {
  if (!st->done) {
    st->done = 1;
    xmpp_disconnect(conn);
  }
}

static int on_message(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata) {
  struct state *st = userdata;
  char *body = xmpp_message_get_body(stanza);
  if (body == NULL) return 1; /* chat states, receipts: not counted */
  const char *from = xmpp_stanza_get_from(stanza);
  const char *type = xmpp_stanza_get_type(stanza);
  printf("MSG from=%s type=%s body=%s\n", from ? from : "", type ? type : "", body);
  fflush(stdout);
  xmpp_free(st->ctx, body);
  st->received++;
  if (st->expect > 0 && st->received >= st->expect) finish(conn, st);
  return 1;
}

static void on_conn(xmpp_conn_t *conn, xmpp_conn_event_t event, int error,
                    xmpp_stream_error_t *stream_error, void *userdata) {
  struct state *st = userdata;
  if (event == XMPP_CONN_CONNECT) {
    st->bound = 1;
    printf("BOUND %s\n", xmpp_conn_get_bound_jid(conn));
    fflush(stdout);
    xmpp_handler_add(conn, on_message, NULL, "message", NULL, st);
    xmpp_stanza_t *pres = xmpp_presence_new(st->ctx);
    xmpp_send(conn, pres);
    xmpp_stanza_release(pres);
    if (st->send_to) {
      xmpp_stanza_t *msg = xmpp_message_new(st->ctx, "chat", st->send_to, NULL);
      xmpp_message_set_body(msg, st->body);
      xmpp_send(conn, msg);
      xmpp_stanza_release(msg);
      printf("SENT %s\n", st->send_to);
      fflush(stdout);
    }
    if (st->expect == 0) finish(conn, st);
    return;
  }
  if (event == XMPP_CONN_DISCONNECT || event == XMPP_CONN_FAIL) {
    if (!st->done) {
      st->failed = 1;
      printf("ERROR disconnected (error %d%s%s)\n", error,
             stream_error && stream_error->text ? ", " : "",
             stream_error && stream_error->text ? stream_error->text : "");
      fflush(stdout);
    }
    st->done = 1;
    xmpp_stop(st->ctx);
  }
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s HOST PORT JID PASSWORD [options]\n", argv[0]);
    return 2;
  }
  const char *host = argv[1];
  unsigned short port = (unsigned short)atoi(argv[2]);
  struct state st = {0};
  st.body = "hello from strophe";
  int direct_tls = 0;
  int timeout = 15;
  for (int i = 5; i < argc; i++) {
    if (!strcmp(argv[i], "--direct-tls")) direct_tls = 1;
    else if (!strcmp(argv[i], "--send-to") && i + 1 < argc) st.send_to = argv[++i];
    else if (!strcmp(argv[i], "--body") && i + 1 < argc) st.body = argv[++i];
    else if (!strcmp(argv[i], "--expect") && i + 1 < argc) st.expect = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) timeout = atoi(argv[++i]);
    else {
      fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }

  xmpp_initialize();
  xmpp_log_t *logger = xmpp_get_default_logger(XMPP_LEVEL_DEBUG); /* to stderr */
  st.ctx = xmpp_ctx_new(NULL, logger);
  xmpp_conn_t *conn = xmpp_conn_new(st.ctx);
  long flags = XMPP_CONN_FLAG_TRUST_TLS;
  flags |= direct_tls ? XMPP_CONN_FLAG_LEGACY_SSL : XMPP_CONN_FLAG_MANDATORY_TLS;
  xmpp_conn_set_flags(conn, flags);
  xmpp_conn_set_jid(conn, argv[3]);
  xmpp_conn_set_pass(conn, argv[4]);

  if (xmpp_connect_client(conn, host, port, on_conn, &st) != XMPP_EOK) {
    printf("ERROR connect\n");
    return 1;
  }
  time_t deadline = time(NULL) + timeout;
  while (!st.done || !xmpp_conn_is_disconnected(conn)) {
    xmpp_run_once(st.ctx, 100);
    if (time(NULL) > deadline) {
      printf("ERROR timeout (bound=%d received=%d)\n", st.bound, st.received);
      fflush(stdout);
      st.failed = 1;
      break;
    }
    if (st.done && xmpp_conn_is_disconnected(conn)) break;
  }
  int ok = st.bound && !st.failed && st.received >= st.expect;
  if (ok) printf("DONE\n");
  fflush(stdout);
  xmpp_conn_release(conn);
  xmpp_ctx_free(st.ctx);
  xmpp_shutdown();
  return ok ? 0 : 1;
}
