"""The web chat's stylesheet and page script (inlined into the page: nothing loads from
other hosts)."""

CSS = """
.qa-answer { display: flex; flex-direction: column; gap: 10px; white-space: normal; }
.qa-answer-text { margin: 0; padding: 10px 14px; border-left: 4px solid var(--color-accent);
  background: var(--color-accent-soft); border-radius: 6px; font-size: 1.08em;
  font-weight: 600; }
.qa-answer-cite { margin: 0 0 4px 4px; opacity: .8; font-size: .92em; }
.qa-cards { display: flex; flex-direction: column; gap: 10px; }
.qa-card { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 10px 12px; background: var(--background-fill-primary); }
.qa-card-head { display: flex; align-items: baseline; gap: 8px; }
.qa-rank { display: inline-block; min-width: 1.6em; text-align: center; border-radius: 999px;
  background: var(--color-accent); color: white; font-size: .8em; font-weight: 700; }
.qa-title { font-weight: 700; flex: 1; }
.qa-confidence { margin: 0 0 4px 4px; font-size: .9em; opacity: .85; }
.qa-not-found-text { margin: 0; padding: 10px 14px; border-left: 4px solid #9ca3af;
  background: var(--background-fill-secondary); border-radius: 6px; font-size: 1.08em; }
.qa-closest { margin: 4px 0 0 4px; font-size: .92em; font-style: italic; }
.qa-meta { font-size: .88em; opacity: .8; margin: 2px 0 6px 0; }
.qa-file { font-size: .95em; }
.qa-passage { margin: 0; line-height: 1.5; font-size: .95em; }
mark.qa-sentence { background: #fde68a; color: #1f2937; padding: 0 2px; border-radius: 3px; }
mark.qa-exact { background: #fde68a; color: #1f2937; padding: 0 2px; border-radius: 3px; }
mark.qa-marked { background: #dbeafe; color: #1f2937; }
.qa-also { font-size: .88em; margin-top: 6px; }
.qa-also ul { margin: 2px 0 0 18px; }
.qa-article summary { cursor: pointer; margin-top: 6px; font-size: .9em;
  color: var(--color-accent); }
.qa-article-text { max-height: 320px; overflow-y: auto; font-size: .9em; line-height: 1.5;
  padding: 8px; border-radius: 6px; background: var(--background-fill-secondary); }
.qa-empty { opacity: .8; }
.qa-notice { padding: 8px 12px; border-radius: 6px; margin: 4px 0; }
.qa-notice:empty { display: none; }
.qa-error { background: #fee2e2; color: #991b1b; }
.qa-ok { background: #dcfce7; color: #166534; }
.qa-info dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 12px; margin: 0; }
.qa-info dt { font-weight: 600; }
.qa-info dd { margin: 0; word-break: break-all; }
.qa-info.qa-error { padding: 8px 12px; border-radius: 6px; }
#chat .scroll-down-button-container { left: auto; right: 14px; transform: none; }
.qa-cite { font-weight: 700; text-decoration: none; color: var(--color-accent);
  margin-right: 2px; }
.qa-cite:hover { text-decoration: underline; }
.qa-copy { margin-left: 10px; padding: 1px 10px; font-size: .85em; border-radius: 999px;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-primary);
  color: var(--body-text-color); cursor: pointer; }
.qa-copy-text { display: none; }
.qa-sources { margin: 0 0 2px 4px; font-size: .88em; }
.qa-sources .qa-cite { margin: 0 0 0 4px; }
.qa-answer-text .qa-cite { font-size: .8em; vertical-align: super; }
.qa-card { scroll-margin-top: 48px; transition: box-shadow .2s; }
.qa-card.qa-highlight { border-color: var(--color-accent);
  box-shadow: 0 0 0 3px var(--color-accent-soft); }
#chat .message-row.user-row { scroll-margin-top: 44px; }
#documents .qa-documents table { width: 100%; border-collapse: collapse; font-size: .92em;
  border: none; }
#documents .qa-documents tr { border: none; }
#documents .qa-documents th, #documents .qa-documents td { text-align: left; padding: 4px 8px;
  vertical-align: top; border: none; border-bottom: 1px solid var(--border-color-primary); }
.qa-documents td.qa-num { text-align: right; }
.qa-docs-wrap { overflow-x: auto; }
.qa-documents .qa-file { word-break: break-all; }
.qa-ask { background: #fef3c7; color: #92400e; }
.qa-skipped h4 { margin: 12px 0 4px 0; }
.qa-skipped ul { margin: 0 0 0 18px; }
.qa-document .qa-article-text { max-height: 480px; }
.qa-document h3 { margin: 0; }
#doc-open, #doc-delete { align-self: flex-end; }
#upload { overflow: hidden; }
.qa-examples button { white-space: normal; text-align: left; }
footer .divider:first-child, footer .divider:last-child { display: none; }
@media (max-width: 640px) {
  #chat .message-row { margin: 8px 2px; max-width: 100%; padding: 0; }
  #chat .message-row .message { padding: 4px; }
  .qa-answer-text { font-size: 1em; padding: 8px 10px; }
  .qa-documents th:nth-child(2), .qa-documents td:nth-child(2) { display: none; }
}
"""

# After a reply, show the top of the newest exchange (the question, then the answer sentence)
# rather than the bottom of its last source card, where the chat's own autoscroll would land;
# on a narrow screen the page itself is scrolled too, so that start is in the viewport.
SHOW_LATEST_JS = """() => {
  const wrap = document.querySelector("#chat .bubble-wrap");
  const rows = wrap ? wrap.querySelectorAll(".message-row.user-row") : [];
  const last = rows[rows.length - 1];
  if (!last) return;
  const top = last.getBoundingClientRect().top - wrap.getBoundingClientRect().top;
  wrap.scrollTo({ top: wrap.scrollTop + top - 44 });  // below the chat's corner buttons
  const shown = last.getBoundingClientRect();
  if (shown.top < 0 || shown.top > window.innerHeight - 160) {
    window.scrollBy({ top: shown.top - 56 });
  }
}"""

# Listeners on the document, so they serve every answer the chat adds later: citations show
# their card, Copy copies, a Whole article opens at its passage, `/` and Esc for the box.
PAGE_JS = """
(() => {
  const questionBox = () => document.querySelector("#question textarea");
  const copy = async (text) => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const area = Object.assign(document.createElement("textarea"), { value: text });
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
  };
  document.addEventListener("click", (event) => {
    const cite = event.target.closest("a.qa-cite");
    if (cite) {
      event.preventDefault();
      const rank = Number(cite.textContent.replace(/\\D/g, ""));
      const card = cite.closest(".qa-answer")?.querySelectorAll(".qa-card")[rank - 1];
      if (!card) return;
      document.querySelectorAll(".qa-card.qa-highlight")
        .forEach((other) => other.classList.remove("qa-highlight"));
      card.classList.add("qa-highlight");
      card.scrollIntoView({ block: "nearest" });
      return;
    }
    const button = event.target.closest("button.qa-copy");
    if (button) {
      const text = button.parentElement.querySelector(".qa-copy-text").textContent;
      copy(text).then(() => { button.textContent = "Copied"; });
    }
  });
  document.addEventListener("toggle", (event) => {
    const details = event.target;
    if (!details.matches?.("details.qa-article") || !details.open) return;
    const box = details.querySelector(".qa-article-text");
    const mark = box?.querySelector("mark.qa-marked");
    if (mark) {
      const offset = mark.getBoundingClientRect().top - box.getBoundingClientRect().top;
      box.scrollTop += offset - 24;
    }
  }, true);
  document.addEventListener("keydown", (event) => {
    const box = questionBox();
    if (!box) return;
    const typing = event.target.closest?.("input, textarea, select, [contenteditable]");
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      box.focus();
    } else if (event.key === "Escape" && event.target === box) {
      box.value = "";
      box.dispatchEvent(new Event("input", { bubbles: true }));
    }
  });
})();
"""
