# METADATA
# title: Test inputs
# description: >-
#   Builds policy inputs (schemas/input.schema.json) from the fixtures in policies/fixtures/:
#   identity documents of real certificates and normalized real SIP messages.
package sip.testing

import data.fixtures.identities
import data.fixtures.messages

# A message received over TLS from a peer holding the named certificate.
tls_in(identity, message) := {
	"direction": "inbound",
	"transport": "tls",
	"connection": {
		"local": {"address": "127.0.0.1", "port": 5061, "domain": "default"},
		"remote": {"address": "127.0.0.1", "port": identities[identity].remote.port},
		"stats": {"flow": {"last_second": 1, "last_minute": 1}, "identity": {"last_second": 1, "last_minute": 1}},
	},
	"identity": identities[identity],
	"message": messages[message],
}

# A message received over UDP (no peer identity).
udp_in(message) := {
	"direction": "inbound",
	"transport": "udp",
	"connection": {
		"local": {"address": "127.0.0.1", "port": 5060},
		"remote": {"address": "127.0.0.1", "port": 5070},
		"stats": {"flow": {"last_second": 1, "last_minute": 1}},
	},
	"message": messages[message],
}
