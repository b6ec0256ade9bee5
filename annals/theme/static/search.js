// Search the facts in the browser, from the index that search-index.js assigns
// to window.ANNALS_SEARCH. It fetches nothing (a page opened from file:// may not
// fetch), uses no eval and no inline handlers: the page's Content-Security-Policy can
// forbid them all. Results are built with DOM nodes, never from HTML strings.
(function () {
  "use strict";
  var LIMIT = 100;
  var form = document.getElementById("search");
  var input = document.getElementById("q");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var data = window.ANNALS_SEARCH;
  if (!form || !input || !list || !data) {
    return;
  }

  // The search page's link to the home page tells how links are spelled here:
  // "../" on the web, "../index.html" in the offline edition opened from disk.
  var home = form.getAttribute("data-root");
  var offline = /index\.html$/.test(home);
  var root = home.replace(/index\.html$/, "");

  function href(path) {
    return root + path + (offline && (path === "" || /\/$/.test(path)) ? "index.html" : "");
  }

  // One folding for the index and the query: case, accents, and the
  // thousands separators of numbers, so 4,848 and 4848 are the same word.
  function words(text) {
    var folded = text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/(\d),(?=\d{3}\b)/g, "$1")
      .replace(/[^a-z0-9.\-]+/g, " ");
    var out = [];
    folded.split(" ").forEach(function (word) {
      word = word.replace(/^[.\-]+|[.\-]+$/g, "");
      if (!word) {
        return;
      }
      out.push(word);
      if (word.indexOf("-") > 0) {
        word.split("-").forEach(function (part) { if (part) { out.push(part); } });
      }
    });
    return out;
  }

  var facts = data.facts.map(function (fact) {
    return { fact: fact, text: " " + words(fact.text).join(" ") + " " };
  });

  function matches(entry, terms) {
    // Every term must begin a word of the fact: "mosul" finds "Mosul",
    // "484" does not find "14848".
    return terms.every(function (term) { return entry.text.indexOf(" " + term) !== -1; });
  }

  function show(query) {
    var terms = words(query);
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    if (!terms.length) {
      status.textContent = facts.length + " facts to search.";
      return;
    }
    var found = facts.filter(function (entry) { return matches(entry, terms); });
    status.textContent = found.length === 1 ? "1 fact found." : found.length + " facts found" +
      (found.length > LIMIT ? "; the first " + LIMIT + " are shown." : ".");
    found.slice(0, LIMIT).forEach(function (entry) {
      var item = document.createElement("li");
      item.className = "fact";
      var when = document.createElement("span");
      when.className = "when";
      when.textContent = entry.fact.when;
      var link = document.createElement("a");
      link.className = "claim";
      link.href = href(entry.fact.path);
      link.textContent = entry.fact.claim;
      item.appendChild(when);
      item.appendChild(link);
      list.appendChild(item);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    show(input.value);
  });
  input.addEventListener("input", function () { show(input.value); });

  var asked = new URLSearchParams(window.location.search).get("q");
  if (asked) {
    input.value = asked;
  }
  show(input.value);
}());
