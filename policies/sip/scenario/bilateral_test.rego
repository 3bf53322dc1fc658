package sip.scenario.bilateral_test

import data.sip.scenario.bilateral
import data.sip.testing

test_partner_may_reach_its_destinations if {
	inp := testing.tls_in("partner_x", "invite_itspx_to_biloxi")
	bilateral.partner == "itspx" with input as inp
	count(bilateral.deny) == 0 with input as inp
	bilateral.log == {"partner": "itspx"} with input as inp
}

test_partner_may_not_reach_other_destinations if {
	inp := testing.tls_in("partner_x", "invite_itspx_to_chicago")
	bilateral.deny == {{"status": 403, "reason": "Destination Not Allowed For Partner"}} with input as inp
}

test_unknown_ca_is_not_a_partner if {
	inp := testing.tls_in("fed_a_sbc", "invite_itspx_to_biloxi")
	bilateral.deny == {{"status": 403, "reason": "Unknown Partner"}} with input as inp
}
