# METADATA
# title: Per-partner request rates
# description: >-
#   Each partner (by the subject of its verified certificate) may send so many requests per
#   second and per minute, counted by the gateway over all the partner's connections
#   (input.connection.stats.identity). Peers without a verified certificate are held to the
#   default, counted per connection. The gateway's own per-peer limits (limits.peers in its
#   config) come first and are the same for everyone; this is where partners differ.
package sip.scenario.partner_rate

import data.config.partner_rate as cfg
import data.sip.lib.peer

# The partner's limits, else the default ones.
limit := cfg.partners[input.identity.subject.string] if {
	peer.verified
} else := cfg.default

# The identity's counts when the peer has one, else the connection's.
counts := input.connection.stats.identity if {
	input.connection.stats.identity
} else := input.connection.stats.flow

deny contains cfg.reject if {
	limited_request
	counts.last_second > limit.per_second
}

deny contains cfg.reject if {
	limited_request
	counts.last_minute > limit.per_minute
}

# ACK and CANCEL end what was already let in: never refused for the rate.
limited_request if {
	input.message.kind == "request"
	not input.message.method in {"ACK", "CANCEL"}
}

log := {"partner_rate": {"per_second": counts.last_second, "per_minute": counts.last_minute}} if deny != set()
