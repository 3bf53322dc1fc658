# METADATA
# title: S5 Trusted-call tagging (distinctive ringing)
# description: >-
#   INVITEs from verified peers of trusted CAs get the Alert-Info tag of the callee's phone
#   type; every other inbound INVITE loses its Alert-Info, so the tag cannot be forged.
package sip.scenario.trusted_call

import data.config.trusted_call as cfg
import data.sip.lib.peer

alert_info := [cfg.tags[phone_type]] if trusted

else := [] if inbound_invite

trusted if {
	inbound_invite
	peer.anchor in cfg.trusted_anchors
}

inbound_invite if {
	input.direction == "inbound"
	input.message.kind == "request"
	input.message.method == "INVITE"
}

phone_type := type if {
	type := cfg.phones[callee]
} else := cfg.default_phone_type

callee := concat("@", [input.message.ruri.user, input.message.ruri.host])
