-- Argo CD health check of a FlantIntegration (integration.flant.com), from the status the
-- controller writes after the kstatus conventions:
--   Degraded     Stalled=True: progress needs a person; the message says what to do.
--   Progressing  the controller has not seen this generation yet, Reconciling=True, or no status yet.
--   Healthy      Ready=True for the generation stored.
-- Install it under resource.customizations.health.integration.flant.com_FlantIntegration in
-- argocd-cm (README, GitOps). Tested with Lua 5.1 on the objects the e2e run stores.
local hs = { status = "Progressing", message = "waiting for the controller to report" }
local status = obj.status
if status == nil or status.conditions == nil then
  return hs
end
local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and status.observedGeneration ~= nil and status.observedGeneration ~= generation then
  hs.message = "the controller has not acted on generation " .. generation .. " yet"
  return hs
end
local ready = nil
for _, c in ipairs(status.conditions) do
  if c.type == "Stalled" and c.status == "True" then
    hs.status = "Degraded"
    hs.message = (c.reason or "") .. ": " .. (c.message or "")
    return hs
  end
  if c.type == "Ready" then
    ready = c
  end
end
for _, c in ipairs(status.conditions) do
  if c.type == "Reconciling" and c.status == "True" then
    hs.message = (c.reason or "") .. ": " .. (c.message or "")
    return hs
  end
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or ""
elseif ready ~= nil then
  hs.message = (ready.reason or "") .. ": " .. (ready.message or "")
end
return hs
