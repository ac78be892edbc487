-- Forwards the verified caller to the services as the gateway does: x-user-id is the token's `sub`, x-user-roles
-- its string `roles` joined by commas. jwt_authn's own claim_to_headers cannot do this: it sends a list claim as
-- base64 JSON, which no service reads as roles. The payload comes from jwt_authn (payload_in_metadata), so only a
-- token Envoy verified can set these headers; the client's own copies were removed before jwt_authn ran.
local USER_ID = "^[%w._@:-]+$"

function envoy_on_request(handle)
  local verified = handle:streamInfo():dynamicMetadata():get("envoy.filters.http.jwt_authn")
  local payload = verified and verified["jwt_payload"]
  -- Every route needs a token, so a request here without one means the configuration is wrong: refuse it.
  if payload == nil then
    handle:respond({ [":status"] = "401" }, "missing or malformed Authorization: Bearer token")
    return
  end
  local sub = payload["sub"]
  if type(sub) ~= "string" or #sub > 128 or not string.find(sub, USER_ID) then
    handle:respond({ [":status"] = "401" }, "token subject is not a valid user id")
    return
  end
  local roles = {}
  if type(payload["roles"]) == "table" then
    for _, role in ipairs(payload["roles"]) do
      if type(role) == "string" then
        roles[#roles + 1] = role
      end
    end
  end
  local headers = handle:headers()
  headers:replace("x-user-id", sub)
  headers:replace("x-user-roles", table.concat(roles, ","))
end
