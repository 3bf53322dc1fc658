# METADATA
# title: S4 Hosted SIP domains
# description: >-
#   Requests must address a domain the gateway hosts. In-dialog requests whose Request-URI is
#   only an address get a route whose expected_domain is what the next hop's certificate must
#   match (RFC 5922).
package sip.scenario.hosted

import data.config.hosted as cfg

deny contains {"status": 404, "reason": "Domain Not Served Here"} if {
	input.direction == "inbound"
	input.message.kind == "request"
	not served
}

served if input.message.ruri.host in cfg.domains

served if address_target

address_target if is_address(input.message.ruri.host)

# The domain of the party at that address: from the table, else the To header's domain.
expected_domain := domain if {
	address_target
	domain := cfg.address_domains[input.message.ruri.host]
} else := input.message.to.host if {
	address_target
	not is_address(input.message.to.host)
}

route := {"uri": sprintf("sips:%s:%d", [input.message.ruri.host, port]), "expected_domain": expected_domain}

# An absent value is absent, not null: object.get supplies the default.
port := object.get(input.message.ruri, "port", 5061)

# The cheap in-module checks first: most hosts are names, and a regex is a host call.
is_address(host) if {
	lower(host) == upper(host) # no letters: an IPv4 address may follow
	regex.match(`^[0-9]{1,3}(\.[0-9]{1,3}){3}$`, host)
}

is_address(host) if {
	startswith(host, "[")
	regex.match(`^\[[0-9A-Fa-f:.]+\]$`, host)
}
