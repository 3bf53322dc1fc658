package sip.scenario.partner_rate_test

import data.sip.scenario.partner_rate
import data.sip.testing

# atlanta's SBC may send 2/s and 10/min in these tests; everyone else 5/s and 100/min.
cfg := {
	"partners": {"CN=sbc.atlanta.example,O=FedA": {"per_second": 2, "per_minute": 10}},
	"default": {"per_second": 5, "per_minute": 100},
	"reject": {"status": 503, "reason": "Partner Rate Exceeded"},
}

atlanta(second, minute) := object.union(testing.tls_in("fed_a_sbc", "invite_atlanta_to_biloxi"), {"connection": {"stats": {
	"flow": {"last_second": 1, "last_minute": 1},
	"identity": {"last_second": second, "last_minute": minute},
}}})

test_partner_within_its_rate if {
	count(partner_rate.deny) == 0 with input as atlanta(2, 10) with data.config.partner_rate as cfg
	partner_rate.limit == {"per_second": 2, "per_minute": 10} with input as atlanta(2, 10) with data.config.partner_rate as cfg
}

test_partner_over_its_rate_per_second if {
	partner_rate.deny == {{"status": 503, "reason": "Partner Rate Exceeded"}} with input as atlanta(3, 3) with data.config.partner_rate as cfg
	partner_rate.log == {"partner_rate": {"per_second": 3, "per_minute": 3}} with input as atlanta(3, 3) with data.config.partner_rate as cfg
}

test_partner_over_its_rate_per_minute if {
	partner_rate.deny == {{"status": 503, "reason": "Partner Rate Exceeded"}} with input as atlanta(1, 11) with data.config.partner_rate as cfg
}

test_identity_counts_span_connections if {
	# the flow is quiet, the identity (all of the partner's connections) is not
	partner_rate.counts == {"last_second": 3, "last_minute": 3} with input as atlanta(3, 3) with data.config.partner_rate as cfg
}

test_other_partner_gets_the_default if {
	inp := object.union(testing.tls_in("fed_b_sbc", "invite_atlanta_to_biloxi"), {"connection": {"stats": {
		"flow": {"last_second": 4, "last_minute": 4},
		"identity": {"last_second": 4, "last_minute": 4},
	}}})
	partner_rate.limit == {"per_second": 5, "per_minute": 100} with input as inp with data.config.partner_rate as cfg
	count(partner_rate.deny) == 0 with input as inp with data.config.partner_rate as cfg
}

test_peer_without_identity_is_counted_per_connection if {
	inp := object.union(testing.udp_in("options_to_gateway"), {"connection": {"stats": {"flow": {"last_second": 6, "last_minute": 6}}}})
	partner_rate.counts == {"last_second": 6, "last_minute": 6} with input as inp with data.config.partner_rate as cfg
	partner_rate.deny == {{"status": 503, "reason": "Partner Rate Exceeded"}} with input as inp with data.config.partner_rate as cfg
}

test_ack_cancel_and_responses_are_never_refused_for_the_rate if {
	ack := object.union(atlanta(9, 99), {"message": {"method": "ACK"}})
	count(partner_rate.deny) == 0 with input as ack with data.config.partner_rate as cfg
	cancel := object.union(atlanta(9, 99), {"message": {"method": "CANCEL"}})
	count(partner_rate.deny) == 0 with input as cancel with data.config.partner_rate as cfg
	resp := object.union(testing.tls_in("fed_a_sbc", "response_200_invite"), {"connection": {"stats": {"flow": {"last_second": 9, "last_minute": 99}, "identity": {"last_second": 9, "last_minute": 99}}}})
	count(partner_rate.deny) == 0 with input as resp with data.config.partner_rate as cfg
}
