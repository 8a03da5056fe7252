//! Multilingual texts of the kind a generation service returns, shared by the text tests.
#![allow(dead_code)]

/// Chinese prose with full-width punctuation, several paragraphs.
pub const CHINESE: &str = "人工智能正在改变我们写作的方式。许多人用它起草邮件、总结会议记录，甚至创作诗歌。\n\n然而，生成式模型也会犯错：它们可能编造引文，或者在数字上出现偏差。因此，读者需要知道哪些内容由机器写成。\n\n根据国家标准，服务提供者应当在文本的开头、末尾或适当位置添加显式标识，并在元数据中写入隐式标识。\n";

/// English prose, hard-wrapped at about 70 columns, with a URL and numbers.
pub const ENGLISH: &str = "The lighthouse keeper kept a log of every ship that passed the point,\nnoting the weather, the hour and the flag it flew. Over forty years the\nlog grew to 112 volumes.\n\nMost entries are short. Some run for pages, describing storms that\ntore the lantern glass or the winter the bay froze solid. The archive\nis online at https://example.org/lighthouse/log.html for anyone.\n\nReaders often ask whether the keeper was lonely. He wrote that he was\nnever alone: the sea talked all night.\n";

/// Chinese and English mixed, with emoji: ZWJ family, a flag, skin tone, VS16 and a keycap.
pub const MIXED: &str = "我们的 AI 助手支持中文和 English 混合输入 👨\u{200D}👩\u{200D}👧\u{200D}👦 家庭模式。\n\n旅行推荐：🇨🇳 北京、🇯🇵 東京、🇫🇷 Paris！点赞 👍🏽 或者 ❤\u{FE0F}，按 1\u{FE0F}\u{20E3} 继续。\n\nThe assistant answers in the user's language, and keeps emoji like 🧑\u{200D}💻 intact.\n";

/// Arabic and Hebrew (right to left) with Latin words and harakat.
pub const RTL: &str = "مرحبا بكم في المكتبة. الكُتُب هنا متاحة للجميع، ويمكنكم استعارة ثلاثة كتب في الأسبوع.\n\nשלום לכולם. הספרייה פתוחה בימים א׳ עד ה׳, והכניסה חופשית לכל מי שרוצה לקרוא.\n\nMixed line: العربية and עברית side by side.\n";

/// Combining marks (decomposed Vietnamese, French, a Devanagari line) and CJK with
/// ideographic variation sequences (U+E0100 after a Han character picks a glyph variant).
pub const MARKS: &str = "Tie\u{302}\u{301}ng Vie\u{323}\u{302}t co\u{301} nhie\u{302}\u{300}u da\u{302}\u{301}u. Cafe\u{301} cre\u{300}me bru\u{302}le\u{301}e.\n\nनमस्ते दुनिया, यह एक परीक्षण है।\n\n葛\u{E0100}城市的辻\u{E0101}先生写了一封信，信里提到了邊\u{E0102}境。\n";

pub const ALL: [(&str, &str); 5] = [
    ("chinese", CHINESE),
    ("english", ENGLISH),
    ("mixed", MIXED),
    ("rtl", RTL),
    ("marks", MARKS),
];
