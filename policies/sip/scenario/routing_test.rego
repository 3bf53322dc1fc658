package sip.scenario.routing_test

import data.sip.scenario.routing
import data.sip.testing

test_explicit_next_hop if {
	routing.route == {"uri": "sips:sbc.biloxi.example:5061", "expected_domain": "biloxi.example"} with input as testing.tls_in("fed_a_sbc", "invite_atlanta_to_biloxi")
}

test_other_domains_are_left_to_rfc3263 if {
	not routing.route with input as testing.tls_in("fed_b_sbc", "invite_atlanta_to_chicago")
	not routing.route with input as testing.tls_in("fed_b_sbc", "response_200_invite")
}
