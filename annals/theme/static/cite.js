/* Copy buttons for a fact's citations. The page reads fine without them;
   the script runs from the site's own files, as its Content-Security-Policy asks. */
(function () {
  "use strict";
  function copied(button, ok) {
    button.textContent = ok ? "Copied" : "Select and copy by hand";
  }
  function selectAndCopy(block) {
    var range = document.createRange();
    range.selectNodeContents(block);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    try {
      return document.execCommand("copy");
    } catch (err) {
      return false;
    }
  }
  document.querySelectorAll(".cite [data-copy]").forEach(function (block) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy: " + block.getAttribute("data-copy"));
    button.addEventListener("click", function () {
      var text = block.textContent;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(
          function () { copied(button, true); },
          function () { copied(button, selectAndCopy(block)); });
      } else {
        copied(button, selectAndCopy(block));
      }
    });
    block.parentNode.insertBefore(button, block.nextSibling);
  });
})();
