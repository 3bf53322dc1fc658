# METADATA
# title: S9 Routing over TLS
# description: >-
#   Explicit next hops per destination domain; any other destination is resolved by RFC 3263
#   (NAPTR, SRV _sips._tcp, A/AAAA) by the gateway.
package sip.scenario.routing

import data.config.routing as cfg

route := {"uri": cfg.next_hops[host], "expected_domain": host} if {
	input.message.kind == "request"
	host := input.message.ruri.host
}
