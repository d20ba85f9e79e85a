#!/usr/bin/env python3
"""An external component (XEP-0114) for Tern: an echo bot at its own domain.

Every chat message sent to any address at the component's domain comes back
with the same body; it answers disco#info and subscribes back when a user
adds it. Run it beside Tern with the domain and secret of a
[components."<domain>"] table in tern.toml:

    python3 examples/echo_component.py echo.localhost s3cret 127.0.0.1 5347
"""

import logging
import sys

import slixmpp


class EchoComponent(slixmpp.ComponentXMPP):
    def __init__(self, domain, secret, host, port):
        super().__init__(domain, secret, host, port)
        self.register_plugin("xep_0030")
        self["xep_0030"].add_identity(category="component", itype="generic", name="Echo")
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("presence_subscribe", self.on_subscribe)
        self.add_event_handler("session_start", lambda _: print("echo ready", flush=True))

    def on_message(self, msg):
        if msg["type"] in ("chat", "normal") and msg["body"]:
            msg.reply(msg["body"]).send()

    def on_subscribe(self, presence):
        self.send_presence(pto=presence["from"].bare, pfrom=presence["to"].bare, ptype="subscribed")
        self.send_presence(pto=presence["from"].bare, pfrom=presence["to"].bare)


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    domain, secret, host, port = sys.argv[1:]
    logging.basicConfig(level=logging.WARNING)
    bot = EchoComponent(domain, secret, host, int(port))
    bot.connect()
    bot.process(forever=False)  # until the server closes the stream


if __name__ == "__main__":
    main()
