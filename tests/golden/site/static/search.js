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
  function fold(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function words(text) {
    var folded = fold(text).replace(/(\d),(?=\d{3}\b)/g, "$1").replace(/[^a-z0-9.\-]+/g, " ");
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

  // Where a word may be found, and what a match there weighs: the claim first, an operation's
  // name or a place well after it. A year or a month typed is looked for in the fact's date (a
  // four-digit number also in its figure and claim, whole), never in a name: "france 2019" is
  // not a fact of 2017 because an operation is called "... 2019". A fact whose date lies within
  // the year or month typed comes before a span that only takes it in: "april 2021" lists April's
  // figures before the rolling twelve-month figures that cover April.
  var ANY = [["claim", 8], ["figure", 6], ["dates", 3], ["names", 2], ["quotes", 1]];
  var YEAR = [["within", 8], ["dates", 7], ["figure", 6], ["claim", 4]];
  var MONTH = [["dates", 7], ["claim", 4]];  // a lone month's name: "may" is a word too
  var DATE = [["within", 8], ["dates", 7]];
  var MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
    "september", "october", "november", "december"];

  function term(word, fields, whole) {
    return { word: word, fields: fields, whole: whole };
  }

  function terms(query) {
    var raw = fold(query).replace(/[^a-z0-9.,\-]+/g, " ").split(" ").map(function (token) {
      return token.replace(/^[.,\-]+|[.,\-]+$/g, "");
    }).filter(Boolean);
    var out = [];
    for (var i = 0; i < raw.length; i++) {
      var token = raw[i], next = raw[i + 1] || "";
      var month = MONTHS.indexOf(token), nextMonth = MONTHS.indexOf(next);
      if ((month >= 0 && /^\d{4}$/.test(next)) || (/^\d{4}$/.test(token) && nextMonth >= 0)) {
        var m = month >= 0 ? month : nextMonth, year = month >= 0 ? next : token;  // "june 2017" is 2017-06
        out.push(term(year + "-" + (m < 9 ? "0" : "") + (m + 1), DATE, false));
        i++;
      } else if (/^\d{4}-\d{2}(-\d{2})?$/.test(token)) {
        out.push(term(token, DATE, false));
      } else if (/^\d{4}$/.test(token)) {  // "4,848", written with its separator, is a number, not a year
        out.push(term(token, YEAR, true));
      } else if (month >= 0) {
        out.push(term(token, MONTH, false));
      } else {
        words(token).forEach(function (word) { out.push(term(word, ANY, false)); });
      }
    }
    return out;
  }

  var FIELDS = ["claim", "dates", "within", "figure", "names", "quotes"];
  var facts = data.facts.map(function (fact, order) {
    var entry = { fact: fact, order: order };
    FIELDS.forEach(function (name) { entry[name] = " " + words(fact[name] || "").join(" ") + " "; });
    return entry;
  });

  function score(entry, query) {
    // Every term must begin a word of the fact ("leeds" finds "Leeds", "484" does not find
    // "14848"), or be one whole where it is a year; the fact scores the best place of each.
    var total = 0;
    for (var i = 0; i < query.length; i++) {
      var t = query[i], best = 0, needle = " " + t.word + (t.whole ? " " : "");
      t.fields.forEach(function (field) {
        if (field[1] > best && entry[field[0]].indexOf(needle) !== -1) {
          best = field[1];
        }
      });
      if (!best) {
        return 0;
      }
      total += best;
    }
    return total;
  }

  function show(query) {
    var asked = terms(query);
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    if (!asked.length) {
      status.textContent = facts.length + " facts to search.";
      return;
    }
    var found = [];
    facts.forEach(function (entry) {
      var points = score(entry, asked);
      if (points) {
        found.push({ entry: entry, points: points });
      }
    });
    // The best matches first; as good, in the archive's time order.
    found.sort(function (a, b) { return b.points - a.points || a.entry.order - b.entry.order; });
    found = found.map(function (hit) { return hit.entry; });
    status.textContent = found.length === 1 ? "1 fact found." : found.length === 0 ? "0 facts found." :
      found.length + " facts found, the best matches first" +
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
