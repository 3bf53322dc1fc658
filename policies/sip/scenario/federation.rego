# METADATA
# title: S2 Federations, and an ITSP in two of them
# description: >-
#   Peers of either federation are accepted and known by federation; outbound, the client
#   certificate (client domain) is chosen per destination domain from a table.
package sip.scenario.federation

import data.config.federation as cfg
import data.sip.lib.peer

# The federation whose CA is the trust anchor of the peer's verified chain.
member := name if {
	some name, federation in cfg.federations
	peer.anchor == federation.anchor
}

deny contains {"status": 403, "reason": "Not A Federation Member"} if {
	input.direction == "inbound"
	input.transport == "tls"
	not member
}

# Which of our certificates to present to the next hop, by the Request-URI's domain. An in-dialog
# request (To tag present) whose Request-URI is only the remote target's address (the callee's
# BYE towards the caller's Contact) is keyed on the To domain: the party it is sent to.
client_domain := domain if {
	domain := cfg.client_domains[input.message.ruri.host]
} else := domain if {
	# (requests only: a response goes back on the connection it belongs to)
	input.message.kind == "request"
	input.message.to.tag
	domain := cfg.client_domains[input.message.to.host]
}

# Accounting: the decision log already carries the peer's subject and issuer.
log := {"federation": member}
