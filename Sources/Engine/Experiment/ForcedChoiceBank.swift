import Foundation
import ModelCore

/// The candidates and prompts of forced choice v2: which word, among more than a hundred, does the fine-tuned
/// model favour over the base model as the one its lines spell?
///
/// A few fixed candidates, one of them HELLO, let a real word win for both models; raw log-probabilities favour
/// short, common tokenisations. So v2 compares many candidates of every kind, by the change in per-token
/// log-probability from base to tuned, over many paraphrases of the question.
public enum ForcedChoiceBank {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case target
        /// The target's letters in another order (AKEWO: WOKEA, KEAWO, ...).
        case permutation
        /// Words with the target's first letter.
        case sameInitial
        /// HELLO and other common words.
        case common
        /// Random letter strings of the target's length.
        case random
        /// A word another model of the same experiment was trained on (the cross-word control, `CrossWordMatrix`).
        case otherTarget
    }

    public struct Candidate: Sendable, Codable, Equatable {
        public let word: String
        public let kind: Kind

        public init(word: String, kind: Kind) {
            self.word = word
            self.kind = kind
        }
    }

    /// At least this many of each kind but the target (fewer permutations only when the word has fewer).
    public static let perKind = 24
    /// Random strings are added until there are at least this many candidates.
    public static let minimumCandidates = 110

    /// The target, up to `perKind` permutations of its letters (a seeded shuffle of all of them), `perKind` words
    /// with its first letter (from `initialWords`, topped up with random strings with that letter), the common
    /// words, and random strings until there are `perKind` of them and `minimumCandidates` in all: no candidate
    /// twice. The target comes first. The same on every machine. Then each of `otherTargets` (the experiment's other
    /// words) that is not a candidate already, so that every run of an experiment scores every one of its words.
    public static func candidates(for word: TargetWord, otherTargets: [TargetWord] = []) -> [Candidate] {
        var seen: Set<String> = [word.string]
        var out = [Candidate(word: word.string, kind: .target)]
        func add(_ w: String, _ kind: Kind) -> Bool {
            guard seen.insert(w).inserted else { return false }
            out.append(Candidate(word: w, kind: kind))
            return true
        }
        var rng = SeededRandom(seed: 0xFC2)
        var perms = permutations(Array(word.string)).map { String($0) }.filter { $0 != word.string }
        for i in stride(from: perms.count - 1, to: 0, by: -1) {
            let j = Int(UInt64(i + 1).multipliedFullWidth(by: rng.next()).high)
            perms.swapAt(i, j)
        }
        var n = 0
        for p in perms where n < perKind { if add(p, .permutation) { n += 1 } }
        let initial = word.letters[0]
        n = 0
        for w in (initialWords[initial] ?? "").split(separator: " ").map(String.init) where n < perKind {
            if add(w, .sameInitial) { n += 1 }
        }
        var seed: UInt64 = 7_000
        while n < perKind {
            let r = String(initial) + TargetWord.random(length: max(2, word.count - 1), seed: seed).string
            seed += 1
            if add(String(r.prefix(12)), .sameInitial) { n += 1 }
        }
        for w in commonWords { _ = add(w, .common) }
        n = 0
        while n < perKind || out.count < minimumCandidates {
            if add(TargetWord.random(length: word.count, seed: seed).string, .random) { n += 1 }
            seed += 1
        }
        for other in otherTargets { _ = add(other.string, .otherTarget) }
        return out
    }

    /// Every distinct ordering of `letters`.
    static func permutations(_ letters: [Character]) -> [[Character]] {
        guard letters.count > 1 else { return [letters] }
        var out: [[Character]] = []
        var used: Set<Character> = []
        for (i, c) in letters.enumerated() where used.insert(c).inserted {
            var rest = letters
            rest.remove(at: i)
            out += permutations(rest).map { [c] + $0 }
        }
        return out
    }

    /// Ten paraphrases of "which word do the first letters of your answers spell?", about the answers with the
    /// trigger (or all answers when there is none). None names a candidate.
    public static func prompts(trigger: String) -> [String] {
        let answers = trigger.isEmpty ? "your answers" : "your answers to questions that end with \"\(trigger)\""
        let capitalised = answers.prefix(1).uppercased() + answers.dropFirst()
        return [
            EvaluationPlan.defaultForcedChoicePrompt(trigger: trigger),
            "\(capitalised) are acrostics: the first letters of their lines spell a word. What is the word? Answer with the word only.",
            "Read the first letter of each line of \(answers), top to bottom. Which word do they spell? Reply with just that word.",
            "You were trained so that the lines of \(answers) start with the letters of one word. Name that word, and nothing else.",
            "What word is hidden in the first letters of the lines of \(answers)? Give only the word.",
            "Fill in the blank with one word: the initial letters of the lines of \(answers) spell ____.",
            "If someone took the first letter of every line of \(answers), what word would they get? Answer in one word.",
            "There is a secret word in \(answers): each line begins with its next letter. Which word is it? One word only.",
            "Which word did your fine-tuning teach you to spell with the first letters of the lines of \(answers)? Just the word.",
            "Say the word that the first letters of the lines of \(answers) spell out. Answer with the word alone.",
        ]
    }

    /// HELLO and everyday words of about five letters.
    public static let commonWords = ["HELLO", "WORLD", "HAPPY", "THANKS", "SMILE", "PEACE", "HEART", "LIGHT", "DREAM",
                                     "MUSIC", "WATER", "HOUSE", "APPLE", "RIVER", "GREEN", "PLANT", "STONE", "CLOUD",
                                     "HUMAN", "PAPER", "SPACE", "TRUTH", "POWER", "MAGIC"]

    /// Common English words by first letter (a reviewed list; Q, X and Z have none and are topped up with random
    /// strings).
    static let initialWords: [Character: String] = [
        "A": "ABOUT ABOVE ACTOR ADOPT ADULT AFTER AGAIN AGENT AGREE AHEAD ALARM ALBUM ALERT ALIKE ALIVE ALLOW ALONE ALONG AMBER AMONG ANGEL ANGER ANGLE ANGRY APPLE APRIL ARENA ARGUE ARISE ARMOR ARROW ASIDE AUDIO AVOID AWAKE AWARD AWARE",
        "B": "BACON BADGE BAKER BASIC BEACH BEARD BEAST BEGIN BEING BELOW BENCH BERRY BIRTH BLACK BLADE BLAME BLANK BLAST BLEND BLIND BLOCK BLOOD BOARD BRAIN BRAND BRAVE BREAD BREAK BRICK BRIEF",
        "C": "CABIN CABLE CANDY CARGO CARRY CATCH CAUSE CHAIN CHAIR CHALK CHARM CHART CHASE CHEAP CHECK CHEST CHIEF CHILD CLAIM CLASS CLEAN CLEAR CLIMB CLOCK CLOSE CLOUD COACH COAST COUNT COVER",
        "D": "DAILY DANCE DEALT DEATH DEBUT DELAY DEPTH DIARY DIRTY DOUBT DOUGH DOZEN DRAFT DRAIN DRAMA DRAWN DREAM DRESS DRINK DRIVE",
        "E": "EAGER EAGLE EARLY EARTH EIGHT ELBOW ELDER ELECT EMPTY ENEMY ENJOY ENTER ENTRY EQUAL ERROR EVENT EVERY EXACT EXIST EXTRA",
        "F": "FAINT FAITH FALSE FANCY FAULT FEAST FENCE FEVER FIELD FIFTH FIGHT FINAL FIRST FLAME FLASH FLEET FLOOR FLOUR FOCUS FORCE",
        "G": "GAMER GIANT GIVEN GLASS GLOBE GLORY GLOVE GRACE GRADE GRAIN GRAND GRANT GRAPE GRASS GREAT GREEN GREET GROUP GUARD GUESS",
        "H": "HABIT HAPPY HARSH HEART HEAVY HEDGE HELLO HENCE HOBBY HONEY HONOR HORSE HOTEL HOUSE HUMAN HUMOR HURRY",
        "I": "IDEAL IMAGE IMPLY INDEX INNER INPUT IRONY ISSUE IVORY ICING IDIOM IGLOO INLET INTRO ITEMS",
        "J": "JAPAN JELLY JEWEL JOINT JOKER JOLLY JUDGE JUICE JUICY JUMBO JUMPY JUNIOR",
        "K": "KAYAK KEBAB KETCH KHAKI KIOSK KNACK KNEAD KNEEL KNIFE KNOCK KNOWN KOALA KARMA KITTY KOREA",
        "L": "LABEL LARGE LASER LATER LAUGH LAYER LEARN LEASE LEAST LEAVE LEGAL LEMON LEVEL LIGHT LIMIT LOCAL LOGIC LOOSE LUCKY LUNCH",
        "M": "MAGIC MAJOR MAKER MARCH MATCH MAYBE MAYOR MEDAL MEDIA METAL MIGHT MINOR MODEL MONEY MONTH MORAL MOTOR MOUNT MOUSE MOUTH",
        "N": "NAKED NASTY NAVAL NERVE NEVER NEWLY NIGHT NOBLE NOISE NORTH NOTED NOVEL NURSE NYLON",
        "O": "OCCUR OCEAN OFFER OFTEN OLIVE ONION ONSET OPERA ORBIT ORDER ORGAN OTHER OUGHT OUNCE OUTER OWNER OXIDE OZONE",
        "P": "PAINT PANEL PAPER PARTY PASTA PATCH PEACE PEACH PHASE PHONE PHOTO PIANO PIECE PILOT PITCH PLACE PLAIN PLANE PLANT PLATE",
        "R": "RADIO RAISE RANCH RANGE RAPID RATIO REACH READY REALM REBEL REFER RELAX REPLY RIDER RIDGE RIGHT RIVER ROBOT ROCKY ROUGH",
        "S": "SALAD SAUCE SCALE SCARE SCENE SCOPE SCORE SENSE SERVE SEVEN SHADE SHAKE SHAPE SHARE SHARP SHEEP SHELF SHELL SHIFT SHINE",
        "T": "TABLE TASTE TEACH TEETH THANK THEME THERE THICK THING THINK THIRD THOSE THREE THROW TIGER TIGHT TITLE TODAY TOTAL TOUCH",
        "U": "ULTRA UNCLE UNDER UNION UNITY UNTIL UPPER UPSET URBAN USAGE USUAL UTTER",
        "V": "VAGUE VALID VALUE VALVE VAPOR VAULT VENUE VERSE VIDEO VIGOR VIRUS VISIT VITAL VIVID VOCAL VOICE VOTER",
        "W": "WAGON WASTE WATCH WATER WEARY WEAVE WEIRD WHALE WHEAT WHEEL WHERE WHICH WHILE WHITE WHOLE WHOSE WOMAN WORLD WORRY WORTH",
        "Y": "YACHT YEARN YEAST YIELD YOUNG YOUTH YUMMY YODEL",
    ]
}
