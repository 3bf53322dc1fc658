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

# The callee's BYE: Request-URI is the caller's Contact (an address), To is the caller.
callee_bye(to) := object.union(testing.tls_in("fed_b_sbc", "invite_atlanta_to_biloxi"), {"message": {
	"method": "BYE",
	"ruri": {"scheme": "sip", "user": "alice", "host": "192.0.2.10"},
	"to": to,
}})

alice := {"uri": "sip:alice@atlanta.example", "user": "alice", "host": "atlanta.example"}

test_client_domain_in_dialog_by_to_domain if {
	federation.client_domain == "fedA" with input as callee_bye(object.union(alice, {"tag": "a1b2"}))
}

# No To tag (absent): not in a dialog, so the To domain does not count.
test_no_client_domain_for_address_without_dialog if {
	not federation.client_domain with input as callee_bye(alice)
}
