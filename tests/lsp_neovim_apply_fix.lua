-- Run by test_lsp.py in `nvim --headless --clean`: open $TFFIX_FILE, start the server ($TFFIX_SERVER, a JSON
-- command) with Neovim's own LSP client, wait for its diagnostics, ask for code actions at the first
-- $TFFIX_CODE finding, apply the first quick fix with vim.lsp.util.apply_workspace_edit, write, quit.
-- Any failure exits with status 1 and says why on stderr.

local function run()
  local path = assert(os.getenv("TFFIX_FILE"), "TFFIX_FILE is not set")
  local code = assert(os.getenv("TFFIX_CODE"), "TFFIX_CODE is not set")
  vim.cmd.edit(vim.fn.fnameescape(path))
  local buffer = vim.api.nvim_get_current_buf()
  local client_id = assert(vim.lsp.start({
    name = "tffix",
    cmd = vim.json.decode(os.getenv("TFFIX_SERVER")),
    root_dir = vim.fs.dirname(path),
  }), "vim.lsp.start did not start the server")
  local client = assert(vim.lsp.get_client_by_id(client_id))

  local finding
  local published = vim.wait(30000, function()
    for _, diagnostic in ipairs(vim.diagnostic.get(buffer)) do
      if diagnostic.code == code then
        finding = diagnostic.user_data.lsp -- the diagnostic exactly as the server sent it
        return true
      end
    end
    return false
  end, 20)
  assert(published, "no " .. code .. " diagnostic arrived")

  local params = {
    textDocument = vim.lsp.util.make_text_document_params(buffer),
    range = finding.range,
    context = { diagnostics = { finding }, only = { "quickfix" } },
  }
  local response = assert(client:request_sync("textDocument/codeAction", params, 20000, buffer), "no answer")
  assert(not response.err, vim.inspect(response.err))
  local action = assert((response.result or {})[1], "no quick fix offered")
  if action.edit == nil then
    local resolved = assert(client:request_sync("codeAction/resolve", action, 20000, buffer), "no answer")
    action = resolved.result
  end
  vim.lsp.util.apply_workspace_edit(assert(action.edit, "the quick fix has no edit"), client.offset_encoding)
  io.stdout:write(action.title .. " via " .. client.offset_encoding .. "\n")
  vim.cmd.write()
end

local ok, err = xpcall(run, debug.traceback)
if not ok then
  io.stderr:write(tostring(err) .. "\n")
  vim.cmd("cquit 1")
end
vim.cmd("qall!")
