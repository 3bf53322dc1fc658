package sip.scenario.federation_test

import data.sip.scenario.federation
import data.sip.testing

test_members_of_both_federations_are_known if {
	federation.member == "fedA" with input as testing.tls_in("fed_a_sbc", "invite_atlanta_to_biloxi")
	federation.member == "fedB" with input as testing.tls_in("fed_b_sbc", "invite_atlanta_to_biloxi")
	federation.log == {"federation": "fedB"} with input as testing.tls_in("fed_b_sbc", "invite_atlanta_to_biloxi")
}

test_member_is_not_denied if {
	count(federation.deny) == 0 with input as testing.tls_in("fed_b_sbc", "invite_atlanta_to_biloxi")
}

test_outsider_is_denied if {
	federation.deny == {{"status": 403, "reason": "Not A Federation Member"}} with input as testing.tls_in("partner_x", "invite_atlanta_to_biloxi")
}

test_client_domain_per_destination if {
	federation.client_domain == "fedB" with input as testing.tls_in("fed_a_sbc", "invite_atlanta_to_biloxi")
	federation.client_domain == "fedA" with input as testing.tls_in("fed_b_sbc", "invite_atlanta_to_chicago")
	not federation.client_domain with input as testing.tls_in("fed_a_sbc", "invite_to_unknown_domain")
}
