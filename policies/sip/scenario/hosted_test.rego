package sip.scenario.hosted_test

import data.sip.scenario.hosted
import data.sip.testing

test_hosted_domain_is_served if {
	count(hosted.deny) == 0 with input as testing.tls_in("fed_a_sbc", "invite_atlanta_to_biloxi")
	not hosted.route with input as testing.tls_in("fed_a_sbc", "invite_atlanta_to_biloxi")
}

test_other_domain_is_not_served if {
	hosted.deny == {{"status": 404, "reason": "Domain Not Served Here"}} with input as testing.tls_in("fed_a_sbc", "invite_to_unknown_domain")
}

test_address_request_uri_gets_expected_domain_from_table if {
	inp := testing.tls_in("fed_a_sbc", "bye_to_ip")
	count(hosted.deny) == 0 with input as inp
	hosted.route == {"uri": "sips:192.0.2.20:5061", "expected_domain": "biloxi.example"} with input as inp
}

# The Request-URI names no port (absent): the route gets 5061.
test_address_request_uri_falls_back_to_to_domain if {
	hosted.route == {"uri": "sips:[2001:db8::20]:5061", "expected_domain": "biloxi.example"}
		with input as json.remove(testing.tls_in("fed_a_sbc", "bye_to_ip"), ["message/ruri/port"])
		with input.message.ruri.host as "[2001:db8::20]"
}

test_no_expected_domain_when_to_is_an_address_too if {
	inp := testing.tls_in("fed_a_sbc", "bye_to_unmapped_ip")
	not hosted.route with input as inp
}

test_is_address_tells_addresses_from_names if {
	hosted.is_address("192.0.2.20")
	hosted.is_address("[2001:db8::20]")
	hosted.is_address("[FE80::A]")
	not hosted.is_address("biloxi.example")
	not hosted.is_address("1.2.3")
	not hosted.is_address("[not:an:address!]")
	not hosted.is_address("2001:db8::20")
}
