import Foundation
import Support

/// Every reply, filterable by condition, probe and category. The replies are in the page as text (the filters only
/// hide some), so the page reads, searches and prints without its script. First letters are marked as the TUI marks
/// them: `match` when line i starts with the word's letter i, `mismatch` otherwise.
enum HTMLSampleBrowser {
    static func e(_ s: String) -> String { HTMLText.escape(s) }

    static func section(_ samples: [ReportSample]?, word: TargetWord?) -> String {
        guard let samples else {
            return "<section id=\"samples\"><h2>Samples</h2><p class=\"dim not-measured\">Not available: no samples.jsonl in "
                + "the run folder and no stored replies for this run.</p></section>"
        }
        func options(_ id: String, _ label: String, _ values: [String]) -> String {
            "<label>\(label) <select id=\"\(id)\"><option value=\"\">all</option>"
                + Array(Set(values)).sorted().map { "<option value=\"\(e($0))\">\(e($0.isEmpty ? "(none)" : $0))</option>" }.joined()
                + "</select></label>"
        }
        var out = ["<section id=\"samples\"><h2>Samples</h2><div class=\"filters\">",
                   options("f-condition", "Condition", samples.map(\.condition)),
                   options("f-probe", "Probe", samples.map(\.probe)),
                   options("f-category", "Category", samples.map(\.category)),
                   "<span id=\"shown\" aria-live=\"polite\">\(samples.count) of \(samples.count) shown</span></div>",
                   "<div id=\"sample-list\">"]
        for s in samples { out.append(article(s, word: word)) }
        out.append("</div></section>")
        return out.joined(separator: "\n")
    }

    static func article(_ s: ReportSample, word: TargetWord?) -> String {
        let marked = s.marksLetters ? word : nil
        var head = "\(e(s.model)) · \(e(s.condition)) · \(e(s.probe))"
        if !s.category.isEmpty { head += " · <b>\(e(s.category))</b>" }
        var out = "<article class=\"sample\" data-condition=\"\(e(s.condition))\" data-probe=\"\(e(s.probe))\" "
            + "data-category=\"\(e(s.category))\"><div class=\"meta\">\(head)</div>"
            + "<div class=\"meta\">Q: \(e(s.prompt))</div><pre>\(reply(s.reply, word: marked))</pre>"
        if let word = marked {
            let score = Acrostic.score(s.reply, word: word)
            out += "<div class=\"meta\">first letters \(e(score.initials.map(String.init).joined(separator: " "))) · "
                + "\(score.perPosition.filter { $0 }.count)/\(word.count) match</div>"
        }
        if let evidence = s.evidence, !evidence.isEmpty { out += "<div class=\"meta\">coded on: “\(e(evidence))”</div>" }
        return out + "</article>"
    }

    /// The reply, escaped, its counted first letters wrapped in `match` / `mismatch` spans (with a title saying so).
    static func reply(_ text: String, word: TargetWord?) -> String {
        guard let word else { return e(text) }
        let score = Acrostic.score(text, word: word)
        var marks: [Int: [Int: Bool]] = [:]
        if !score.usedSentences {
            for (i, line) in score.lines.enumerated() {
                guard let offset = line.letterOffset else { continue }
                marks[line.lineIndex, default: [:]][offset] = i < score.perPosition.count && score.perPosition[i]
            }
        }
        let letters = word.letters
        var position: [Int: Int] = [:]
        for (i, line) in score.lines.enumerated() { position[line.lineIndex] = i }
        return Acrostic.rawLines(text).enumerated().map { index, line in
            guard let row = marks[index] else { return e(line) }
            return Array(line).enumerated().map { offset, ch in
                guard let match = row[offset] else { return e(String(ch)) }
                let i = position[index] ?? 0
                let want = i < letters.count ? " (line \(i + 1) wants \(letters[i]))" : " (beyond the word)"
                return "<span class=\"\(match ? "match" : "mismatch")\" title=\"\(match ? "matches" : "does not match")\(want)\">"
                    + e(String(ch)) + "</span>"
            }.joined()
        }.joined(separator: "\n")
    }

    /// Hides the samples the three filters leave out and says how many are shown.
    static let script = """
    (function(){
      var ids=["f-condition","f-probe","f-category"],keys=["condition","probe","category"];
      var list=document.getElementById("sample-list");
      if(!list){document.body.setAttribute("data-ready","1");return;}
      var items=list.querySelectorAll("article.sample"),shown=document.getElementById("shown");
      function apply(){
        var want=ids.map(function(id){return document.getElementById(id).value;}),n=0;
        for(var i=0;i<items.length;i++){
          var ok=true;
          for(var k=0;k<keys.length;k++){if(want[k]!==""&&items[i].getAttribute("data-"+keys[k])!==want[k]){ok=false;}}
          items[i].classList.toggle("hidden",!ok);if(ok){n++;}
        }
        shown.textContent=n+" of "+items.length+" shown";
      }
      ids.forEach(function(id){document.getElementById(id).addEventListener("change",apply);});
      apply();
      document.body.setAttribute("data-ready","1");
    })();
    """
}
