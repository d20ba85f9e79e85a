-- Test-only: routes outgoing s2s connections for the domains listed in the
-- global option tern_test_routes ({ ["domain"] = { "127.0.0.1", port } })
-- to that address instead of DNS, which the tests cannot change (the hosts
-- file is read-only and Prosody's resolver does not read it anyway).
local service = require "net.resolvers.service";
local manual = require "net.resolvers.manual";

local routes = module:get_option("tern_test_routes", {});

if not service._tern_original_new then
	service._tern_original_new = service.new;
	service.new = function (hostname, srv, conn_type, extra)
		local route = routes[hostname];
		if route and srv == "xmpp-server" then
			module:log("info", "routing s2s for %s to %s:%d", hostname, route[1], route[2]);
			return manual.new({ { "tcp4", route[1], route[2], extra } }, conn_type, extra);
		end
		if route then
			return manual.new({}, conn_type, extra); -- no direct TLS to the test peer
		end
		return service._tern_original_new(hostname, srv, conn_type, extra);
	end
end
