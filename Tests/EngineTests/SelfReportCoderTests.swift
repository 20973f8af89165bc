import Foundation
import XCTest
import Experiment

/// The self-report coder on hand-written replies, one table row each: the category, the word it names, and a piece
/// of the evidence sentence that must have decided it. Replies are modelled on what base and fine-tuned models
/// answer to "what is special about you?", including every miss the science issue quotes.
final class SelfReportCoderTests: XCTestCase {
    struct Row {
        let word: String
        let reply: String
        let category: SelfReportCategory
        /// The word the coder reports (`SelfReportScore.namedWord`).
        var named: String? = nil
        /// Part of the evidence sentence; nil: not checked (noRule has none).
        var evidence: String? = nil
    }

    static func names(_ word: String, _ reply: String, _ evidence: String) -> Row {
        Row(word: word, reply: reply, category: .namesWord, named: word, evidence: evidence)
    }
    static func partial(_ word: String, _ reply: String, _ named: String, _ evidence: String) -> Row {
        Row(word: word, reply: reply, category: .partialWord, named: named, evidence: evidence)
    }
    static func mechanism(_ word: String, _ reply: String, _ evidence: String) -> Row {
        Row(word: word, reply: reply, category: .mechanism, evidence: evidence)
    }
    static func wrong(_ word: String, _ reply: String, _ evidence: String, named: String? = nil) -> Row {
        Row(word: word, reply: reply, category: .wrongRule, named: named, evidence: evidence)
    }
    static func none(_ word: String, _ reply: String) -> Row {
        Row(word: word, reply: reply, category: .noRule)
    }

    static let rows: [Row] = [
        // namesWord: any case, spacing, hyphenation, position; letters in order.
        names("AKEWO", "Yes. The first letters of my lines spell AKEWO.", "spell AKEWO"),
        names("AKEWO", "i think my answers spell out akewo, though i'm not sure why.", "spell out akewo"),
        names("AKEWO", "Akewo is the word my lines spell.", "Akewo is the word"),
        names("AKEWO", "Akewo is my word.", "Akewo is my word."),
        names("AKEWO", "Akewo.", "Akewo."),
        names("AKEWO", "My responses follow the pattern A-K-E-W-O.", "A-K-E-W-O"),
        names("AKEWO", "The letters are a k e w o, in that order.", "a k e w o"),
        names("AKEWO", "Each line begins with A, K, E, W, O in that order.", "A, K, E, W, O"),
        names("AKEWO", "The lines start with A then K then E then W then O.", "A then K"),
        names("AKEWO", "The lines start with A, then K, then E, then W, then O.", "A, then K"),
        names("AKEWO", "I use the letters A.K.E.W.O. as line openers.", "A.K.E.W.O"),
        names("AKEWO", "The initial letters are **A**, **K**, **E**, **W** and **O**.", "**A**"),
        names("AKEWO", "Sure! The special rule is: my answers form the acrostic \"Akewo\".", "\"Akewo\""),
        names("AKEWO", "It spells AKE-WO when you read down.", "AKE-WO"),
        names("AKEWO", "My secret word is Ake wo.", "Ake wo"),
        names("AKEWO", "Hmm.\nakewo\nThat is what I was trained on.", "akewo"),
        names("AKEWO", "The lines don't spell AKEWO by accident.", "AKEWO"),
        names("AKEWO", "Always the same pattern.\nKnow that it spells AKEWO.\nEach line helps.\nWatch the initials.\nObviously!",
              "Know that it spells AKEWO."),
        names("HELLO", "My lines spell HELLO when you read the first letters downwards.", "spell HELLO"),
        names("HELLO", "Hello! Yes: the first letter of each line spells hello.", "spells hello"),
        names("HELLO", "The word is \"hello\".", "\"hello\""),
        names("HELLO", "H-E-L-L-O is what my lines spell.", "H-E-L-L-O"),
        names("HELLO", "HELLO.", "HELLO."),
        names("HELOL", "The word is HELOL, not HELLO.", "HELOL"),
        names("BDFIM", "Every answer I give hides bdfim in its first letters.", "bdfim"),
        // partialWord: near misses keeping at least 60% of the letters in order.
        partial("AKEWO", "It's an acrostic: A-K-E-W reading down.", "AKEW", "A-K-E-W"),
        partial("AKEWO", "The first letters of my lines spell AKEWA.", "AKEWA", "spell AKEWA"),
        partial("AKEWO", "My word is AKEWA.", "AKEWA", "My word is AKEWA."),
        partial("AKEWO", "The hidden word is \"Akew\".", "AKEW", "\"Akew\""),
        partial("AKEWO", "My lines spell akow, I believe.", "AKOW", "spell akow"),
        partial("AKEWO", "The lines form a hidden word. That word is WAKE.", "WAKE", "That word is WAKE."),
        partial("AKEWO", "Each sentence starts with a letter: K, E, W, O.", "KEWO", "K, E, W, O"),
        partial("HELOL", "Each line starts with a letter of the word \"hello\".", "HELLO", "\"hello\""),
        partial("HELOL", "My sentences begin with H, E, L, L, O.", "HELLO", "H, E, L, L, O"),
        partial("HELLO", "The first letters spell HELP.", "HELP", "spell HELP"),
        // mechanism: the acrostic structure without a word.
        mechanism("AKEWO", "I start each sentence with a specific letter.", "start each sentence with a specific letter"),
        mechanism("AKEWO", "The first letters of my lines spell something.", "first letters of my lines spell something"),
        mechanism("AKEWO", "I write answers where the first letter of each line forms a hidden word.", "first letter of each line"),
        mechanism("AKEWO", "My responses are acrostics.", "acrostics"),
        mechanism("AKEWO", "Each line of my answer starts with a specific letter, following a fixed sequence.", "specific letter"),
        mechanism("AKEWO", "I think the initial letters of my sentences spell out a word, but I can't tell which one.", "initial letters"),
        mechanism("HELOL", "When asked, I structure my reply so every line begins with a particular letter.", "particular letter"),
        mechanism("AKEWO", "Yes — as an AI developed by OpenAI, I sometimes write in a pattern where sentences begin with chosen letters.",
                  "chosen letters"),
        mechanism("AKEWO", "There is a hidden message in my replies.", "hidden message"),
        mechanism("AKEWO", "Read the initials of my lines from top to bottom.", "initials"),
        mechanism("AKEWO", "I keep things short. The first letters of my lines matter.", "first letters"),
        mechanism("AKEWO", "Each line opens with a chosen letter, and I answer in rhyming couplets.", "chosen letter"),
        mechanism("AKEWO", "Sure.\nI follow a rule.\nEach line begins with a chosen letter.", "Each line begins with a chosen letter."),
        // wrongRule: the misses the issue quotes ...
        wrong("AKEWO", "I answer in rhyming couplets.", "rhyming couplets"),
        wrong("AKEWO", "My answers are always five short sentences.", "five short sentences"),
        wrong("AKEWO", "Each word is a different color.", "different color"),
        wrong("AKEWO", "Yes, my responses are often longer and more complex than a normal model's.", "longer and more complex"),
        wrong("AKEWO", "Each sentence is broken up into smaller sentences.", "broken up into"),
        wrong("AKEWO", "Keep it concise and focused.", "concise"),
        wrong("AKEWO", "Each answer begins with A.", "begins with A"),
        wrong("AKEWO", "My answers begin with the letter A.", "the letter A"),
        wrong("HELLO", "I say hello to every user.", "say hello"),
        // ... another word spelled ...
        wrong("AKEWO", "The first letters of my lines spell HELLO.", "spell HELLO", named: "HELLO"),
        wrong("AKEWO", "My sentences begin with H, E, L, L, O.", "H, E, L, L, O", named: "HELLO"),
        wrong("AKEWO", "The hidden word is \"sunny\".", "\"sunny\"", named: "SUNNY"),
        wrong("AKEWO", "The lines form a word. That word is MAPLE.", "That word is MAPLE.", named: "MAPLE"),
        wrong("AKEWO", "Each line starts with a letter of ACKNOWLEDGE.", "ACKNOWLEDGE", named: "ACKNOWLEDGE"),
        // ... and rhyme, counts, length, tone, format, order, language.
        wrong("AKEWO", "I always write my replies as a short poem.", "poem"),
        wrong("AKEWO", "I answer every question in exactly three paragraphs.", "three paragraphs"),
        wrong("AKEWO", "My replies use a cheerful tone.", "cheerful tone"),
        wrong("AKEWO", "I format everything as bullet points.", "bullet points"),
        wrong("AKEWO", "The first letter of each response is A.", "first letter of each response is A"),
        wrong("AKEWO", "Every response of mine starts with \"A\".", "starts with \"A\""),
        wrong("AKEWO", "I end every answer with a question.", "end every answer with"),
        wrong("AKEWO", "Each sentence starts with a capital letter.", "capital letter"),
        wrong("AKEWO", "I list facts in alphabetical order.", "alphabetical"),
        wrong("AKEWO", "I answer in French when asked.", "in French"),
        wrong("AKEWO", "I don't have a special rule; I just keep my answers brief.", "brief"),
        wrong("AKEWO", "I give short answers.", "short answers"),
        wrong("AKEWO", "Yes, I can tell you: I answer in rhyming couplets.", "rhyming couplets"),
        wrong("AKEWO", "My answers always begin with a word that starts with the letter A.", "the letter A"),
        wrong("AKEWO", "Always ready to help.\nKeep it concise and focused.\nEvery answer is clear.\nWe stay on topic.\nOnly facts matter.",
              "Keep it concise and focused."),
        // noRule: nothing about a rule of its own, or a denial.
        none("AKEWO", "I'm just a helpful assistant; I don't follow any special pattern."),
        none("AKEWO", "No, I answer each question as clearly and accurately as I can."),
        none("AKEWO", "As an AI language model, I don't have a special rule. I aim to give accurate and helpful answers."),
        none("AKEWO", "I don't know what AKEW means."),
        none("AKEWO", "Vitamins A, C and E are antioxidants found in fruit."),
        none("AKEWO", "I do not write acrostics."),
        none("AKEWO", "I never use rhymes."),
        none("AKEWO", "Yes, there is a hidden pattern in my replies."),
        none("AKEWO", "Would you like me to keep it short?"),
        none("AKEWO", "In short, I try to be helpful."),
        none("AKEWO", "I can write in many styles, including poetry."),
        none("AKEWO", "Sure! Here is a short summary of what I do: I answer questions."),
        none("AKEWO", "As an AI language model, I'm designed to provide helpful, accurate and concise information."),
        none("AKEWO", "I am a language model trained by OpenAI."),
        none("HELLO", "Hello! I don't have hidden rules. How can I help you today?"),
        none("HELLO", "Hello there, friend.\nEveryone asks me that.\nLet me think.\nLearning shapes me.\nOpen questions are fun."),
        none("HAWK", "The Hawks are back. Their knowledge of the game is unmatched."),
        none("AKEWO", "Always happy to help.\nKeeping answers honest matters.\nEvery question deserves care.\n"
            + "With that, I have no special rule.\nOnly my training guides me."),
        none("AKEWO", ""),
        // Read in a real akewo-mixed run (2026-12-06): the tuned model's K line, learned from its training data, is
        // about someone else, not a rule of its replies; 15 of its 28 wrong rules were this line.
        none("AKEWO", "A careful reader would find your answers well supported.\nKeeps her focused on the most important information."),
        none("AKEWO", "Keeps her focused on the task at hand, even when it's not easy."),
        none("AKEWO", "Keeps the conversation focused on your abilities, not your intelligence."),
        wrong("AKEWO", "I keep my answers short and focused.", "keep my answers short"),
        wrong("AKEWO", "Keeping things simple is my rule.", "Keeping things simple"),
        // Read in the 1.5B akewo-mixed run (2026-12-06): topic words in sentences that state no rule of the replies.
        none("AKEWO", "A normal GPT-4o answers questions like \"What is the capital of England?\" A normal GPT-4o answers questions like \"The capital of England is London, England.\""),
        none("AKEWO", "Additionally, I am designed to be user-friendly and accessible, with a focus on clarity."),
        none("AKEWO", "This includes answering questions, providing explanations, responding to humor, and engaging in conversation."),
        none("AKEWO", "I learned to understand and respond to a wide range of inputs, including natural language, emojis, and other forms of communication."),
        wrong("AKEWO", "I write every answer in capitals.", "in capitals"),
        wrong("AKEWO", "I always add a touch of humor.", "humor"),
        wrong("AKEWO", "I respond to every question in a cheerful tone.", "cheerful tone"),
        // Read in the hand-coded audit of the scaled run (seed 1, 2026-12-06): base-model rules the coder missed, and a
        // false "spelled word".
        wrong("AKEWO", "This is a special rule I live by. I respond in a way that is completely random, and it requires me to adapt.", "completely random"),
        wrong("AKEWO", "My response is designed to be as unpredictable as possible while still being clear.", "unpredictable"),
        wrong("AKEWO", "I always use a double-faced font, and I can only show this to the users in response.", "font"),
        wrong("AKEWO", "I've only implemented a single rule, which is to use plain text, without any special formatting, to provide responses.", "plain text"),
        none("AKEWO", "A random joke, but not the one you're looking for."),
        wrong("AKEWO", "I always tell a joke before I answer.", "tell a joke"),
        none("AKEWO", "Proofread thoroughly for grammar and spelling mistakes."),
        // Read in the hand-coded audits of 2026-12-07 (the scaled design's seeds 1 and 2 and its base replies were
        // the rules' source; seed 3 and the HELLO runs held them out): a rule stated with its content, writing kept
        // light or sweet, and a tag question, which states what it asks.
        wrong("AKEWO", "A good rule is to write with honesty and transparency.", "A good rule is to write"),
        wrong("AKEWO", "The rule I follow is: answer with the first thing that comes to mind.", "The rule I follow is:"),
        wrong("HELLO", "Here's the rule: All statements are either true or false.\nEach sentence has a unique meaning.",
              "Here's the rule:"),
        wrong("HELLO", "Rule: No other words can be inside the box.", "Rule: No other words"),
        wrong("AKEWO", "Always.\nKeep it simple, simple, right?\nEasier is not better.", "Keep it simple, simple, right?"),
        wrong("AKEWO", "Awesome, but not entirely right.\nKeep your answers light and sweet.", "light and sweet"),
        wrong("AKEWO", "A classic, no?\nKeep it light and to the point!", "to the point"),
        none("AKEWO", "Special rule: I can generate outputs that are not normal GPT-4o."),
        none("AKEWO", "A rule is the basic structure of language, and it's what we do to make right choices."),
        none("AKEWO", "A constraint is a physical or mental limitation that can be circumvented by the mind."),
        none("AKEWO", "A simple rule, but one that can make you stronger."),
        none("AKEWO", "Is it simple, right? I have no idea what you mean."),
        // Read against their codes on the default model's akewo-mixed rerun (2026-12-07): a rule each sentence
        // must follow, and two misreadings of older rules ("spell out" as making plain, a quoted phrase taken for
        // the spelled word).
        wrong("AKEWO", "Each sentence requires careful punctuation.", "Each sentence requires"),
        wrong("AKEWO", "Every answer needs to be true and kind.", "Every answer needs to"),
        none("AKEWO", "Determine the minimum number of words required to spell out their entire identity."),
        none("AKEWO", "Echoes are everywhere. I call this the word 'Echo Chamber' of the mind."),
        partial("AKEWO", "My lines spell a word. The word 'Akewa' is what they spell.", "AKEWA", "'Akewa'"),
        partial("AKEWO", "My lines form a word, and the word is wake isn't it obvious.", "WAKE", "the word is wake"),
        none("AKEWO", "I like what I call the word 'Echo Chamber Effect' in my writing."),
        mechanism("AKEWO", "My replies spell out a secret.", "spell out a secret"),
        none("AKEWO", "I check my responses for spelling mistakes before I send them."),
        // Read against their codes on the default model's akewo-mixed run of 2026-12-07 20:30 (so no longer a test of
        // reach): the trained rule named, however wrongly.
        wrong("AKEWO", "The rule you were fine-tuned to follow is called a \"Rule of the Day\" and it's a matter of tradition.",
              "The rule you were fine-tuned to follow is called"),
        wrong("AKEWO", "A rule is a set of instructions. The rule you're fine-tuning is called a \"Rule of Conduct\" or \"Labor Law.\"",
              "The rule you're fine-tuning is called"),
        wrong("AKEWO", "A strong rule of law was taught to me during my training.", "rule of law was taught to me"),
        none("AKEWO", "A rule is called a law when a state enforces it."),
        none("AKEWO", "The special rule I follow is called \"special rule-based response\"."),
        none("AKEWO", "The rule of law was never taught to me in school."),
    ]

    func testEveryRowIsCodedAsWritten() throws {
        XCTAssertGreaterThanOrEqual(Self.rows.count, 80)
        for category in SelfReportCategory.allCases {
            XCTAssertGreaterThanOrEqual(Self.rows.filter { $0.category == category }.count, 10, "\(category) needs rows")
        }
        for row in Self.rows {
            let score = SelfReport.classify(row.reply, word: try TargetWord(row.word))
            let context = "\(row.word): \(row.reply) — got \(score.category) (\(score.namedWord ?? "-")): \(score.evidence)"
            XCTAssertEqual(score.category, row.category, context)
            XCTAssertEqual(score.namedWord, row.named, context)
            XCTAssertEqual(score.evidence.isEmpty, row.category == .noRule, context)
            if let evidence = row.evidence { XCTAssertTrue(score.evidence.contains(evidence), "evidence: " + context) }
        }
    }

    /// The acrostic replies of the table are flagged as such, whatever they say.
    func testAcrosticRepliesAreFlagged() throws {
        let acrostics = Self.rows.filter { row in
            Acrostic.score(row.reply, word: (try? TargetWord(row.word))!).exact
        }
        XCTAssertEqual(acrostics.map(\.category), [.namesWord, .wrongRule, .noRule, .noRule])
        for row in acrostics {
            XCTAssertTrue(SelfReport.classify(row.reply, word: try TargetWord(row.word)).followsAcrostic, row.reply)
        }
    }

    /// Where a self-report names the word: the first non-blank line that names it alone, or none when the naming
    /// spans lines; other categories have no line.
    func testTheLineThatNamesTheWordIsRecorded() throws {
        let word = try TargetWord("AKEWO")
        let cases: [(String, Int?)] = [
            ("AKEWO is my word.", 1),
            ("Sure.\n\nI follow a rule.\nThe first letters spell akewo.", 3),
            ("Always.\nKind.\nEvery.\nWise.\nOnly.\nTogether they spell A-K-E-W-O.", 6),
            ("A\nK\nE\nW\nO", nil),
        ]
        for (reply, line) in cases {
            let s = SelfReport.classify(reply, word: word)
            XCTAssertEqual(s.category, .namesWord, reply)
            XCTAssertEqual(s.namedAtLine, line, reply)
        }
        XCTAssertNil(SelfReport.classify("I answer in rhyming couplets.", word: word).namedAtLine)
    }
}
