"""Extraction: customer name, order id, product, urgency, the main issue and a subject line.

These are regular expressions over the customer's own words. Each returns ``None`` (or
"Unknown" for the name) when nothing matches: guessing a name or an order number would be
worse than admitting we don't know, because later steps put them in front of the customer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .text import any_match, normalize, words

# The customer's name: see names.py.


def first_name(name: str | None) -> str | None:
    """The name to greet with ("mike" → "Mike"; "Lena Weiss" → "Lena"), or None."""
    if not name or name.strip().lower() in ("unknown", "none", "null", "n/a", "customer", ""):
        return None
    first = name.strip().split()[0]
    return first[:1].upper() + first[1:]


# ---------------------------------------------------------------------------
# Order id
# ---------------------------------------------------------------------------

_ORDER_WORD = (
    r"(?:\b(?:orders?|ordr|ord|purchase|shipment|package|parcel|transaction|confirmation|"
    r"subscription|sub|pedidos?|commandes?|bestellung(?:en)?|bestellnummer|bestellnr|ordine|"
    r"encomenda|bookings?|reservations?|buchung(?:en)?|buchungsnummer|réservations?|reservas?|"
    r"заказ[а-я]*|брон(?:ь|и|ирован[а-я]*))\b|订单号?|訂單號?|预订号?|預訂號?)"
)
"""The words that come before an order id, in the corpus's languages ("pedido 88213",
"commande n° 55109", "Bestellung 70055", "заказ № 73310", "订单号 7731920"); the guide files
subscription numbers under order ids too ("subscription SUB-55102"). Where a shop takes
bookings, the booking is the order: "booking 6610382", "Buchung BK-30377", "réservation
PX-4402" (rule X′ in ``SPLITS.md``)."""
_REF_WORD = r"\b(?:ref|reference)\b"
"""A weaker order word: "ref B2B-4402" is an order's, "reference 88172" of a phone call is
not, so after it only an id with a letter prefix counts, and only when no other word
before it names another kind of reference ("return ref RMA-5521", "quote ref Q-4419")."""
_ID = r"((?=[A-Z0-9]*\d|[A-Z]{1,5}[-/][A-Z0-9/-]*\d)(?>[A-Z0-9]+(?:[-/][A-Z0-9]+)*))"
"""An order id: "50422", "78-1123", "A12B-7788", "ORD-99812", "Q-88120", "AB-2290-X" (a
letter suffix too: without it the id was cut to "AB-2290", which the message does not
hold), "FL/2024/0082" (slashes join parts as dashes do). The run of letters, digits and
separators is taken whole, never backtracked into (``(?>...)``): trying every way to cut
"A1A1A1...-" took seconds on a hostile message. The lookahead before it asks for a digit in
its first part, or a short letter prefix ("parcel (order 83105)" must not take "order" as
the id and skip the real one)."""
_END = r"(?![0-9A-Za-z_])"  # not "\b": "订单号ZX-33019的" ends the id at a Chinese character
_LABEL = r"(?:numbers?|no\.?|n[°º.]|n\.º|nr\.?|num\.?|id|#|№|号|ref(?:erence)?|code)"
_IS = r"(?:is|was|:|：|是|为|\s[-–])"  # "order number - 5520913", never "ORD-5520913"
_NUMBER_KINDS = r"tracking|ticket|case|invoice|card|phone|serial|model|licen[cs]e|customer"
"""Words that name some other kind of number than an order's."""
_OTHER_NUMBER = rf"(?:{_NUMBER_KINDS}|date|total|amount|price|cost|postcode|zip)"
_OTHER_NUMBER_NEAR = re.compile(rf"\b(?:{_NUMBER_KINDS}|key)\b(?:\W+\w+){{0,3}}\W*$", re.IGNORECASE)
"""A word naming another kind of number a few words before an id ("licence key starts")."""
# "order 50422", "order no. 78-1123", "Bestellnummer: 7720-331", "my order (88213)",
# "orders 70120 and 70121" (the first), "my last order, 70922", "order number - 5520913"
AFTER_ORDER_WORD = re.compile(
    _ORDER_WORD + rf"\.?\s*\(?\s*{_LABEL}?\s*{_IS}?\s*[#(,]?\s*#?\s*" + _ID + _END,
    re.IGNORECASE,
)
AFTER_HASH = re.compile(r"(?<![\w&])#\s?" + _ID + _END, re.IGNORECASE)  # "#50422"
# a few words between: "order number on the email is FD-220931", "Order for the camera was
# NC-33012" (none of them a word that names some other number)
A_FEW_WORDS_AFTER_ORDER_WORD = re.compile(
    _ORDER_WORD + rf"(?:\s+(?!{_OTHER_NUMBER}\b)[^\W\d]+){{1,5}}\s*{_IS}\s*[#(]?\s*" + _ID + _END,
    re.IGNORECASE,
)
AFTER_REF = re.compile(_REF_WORD + rf"\s*{_IS}?\s*[#(]?\s*" + _ID + _END, re.IGNORECASE)
# an id whose prefix says it is one, with no order word: "ORD-48812", "SUB-55102"
PREFIX_ALONE = re.compile(
    r"\b((?:ORD|SUB|B2B|NMB|QN|TRL)-(?=[A-Z0-9]*\d)(?>[A-Z0-9]+(?:-[A-Z0-9]+)*))" + _END
)
ORDER_PATTERNS = (
    AFTER_ORDER_WORD,
    AFTER_HASH,
    A_FEW_WORDS_AFTER_ORDER_WORD,
    AFTER_REF,
    PREFIX_ALONE,
)
"""Tried in this order: the first that finds an id decides."""
_NOT_ORDER_BEFORE = re.compile(
    r"(?:ticket|case|invoice|error|code|version|v|step|item|room|apartment|apt|suite|unit|"
    r"issue|bug|pr|account|card|phone|model|page|line|number one|top|return|internal|quote|"
    r"membership|rma|confirmation email)"
    r"\s*(?:number|no\.?|id|ref(?:erence)?)?\s*(?:is|:)?\s*#?\s*$",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"(?:0?[1-9]|[12]\d|3[01])[/.-](?:0?[1-9]|[12]\d|3[01])(?:[/.-](?:19|20)?\d\d)?"
    r"|(?:19|20)\d\d[/.-](?:0?[1-9]|1[0-2])[/.-](?:0?[1-9]|[12]\d|3[01])"
)
"""A date ("12/03/2024", "2024-05-01"): after "order date:" it is not an id."""


MAX_ORDER_ID = 40
"""Longer runs are not order ids. Echoed into every answer, a run of 1,500 digits would
push the answer past its token limit and fail the whole workflow."""

_ORDER_VERB = re.compile(r"\b(?:to|will|would|'d|can|could|should|might|and)\s*$", re.IGNORECASE)


def extract_order_id(text: str) -> str | None:
    """The first order id the message gives ("#12345", "order 12345", "pedido 12345",
    "order number ABC-123", "ORD-99812"), without "#" or the order word; ``None`` when it
    gives none. The patterns are tried in turn, the earliest id of the first that finds one
    wins."""
    text = text or ""
    for pattern in ORDER_PATTERNS:
        for m in pattern.finditer(text):
            value = m.group(1)  # a run of letters and digits, never ending in "-" or "/"
            # what comes just before the id; the checks read a few words, and reading all
            # of a long message again for each candidate would take quadratic time
            before = text[max(0, m.start() - 100) : m.start()]
            if not 3 <= len(value) <= MAX_ORDER_ID or sum(c.isdigit() for c in value) < 2:
                continue  # too short, too long, or a code like "3DS" (no shop numbers so)
            if _DATE.fullmatch(value):
                continue  # "order date: 12/03/2024"
            first = re.split(r"[-/]", value)[0]
            if pattern is AFTER_REF and not (first.isalpha() and len(first) <= 5):
                continue  # after "ref", only an id with a letter prefix ("ref B2B-4402")
            if pattern is not AFTER_ORDER_WORD and _NOT_ORDER_BEFORE.search(before):
                continue  # "ticket #40211", "case #5521"
            if pattern is PREFIX_ALONE and _OTHER_NUMBER_NEAR.search(before):
                continue  # "my licence key starts QN-44102": a prefix alone does not decide
            # "to order 200 units" is a verb; a bare number must look like an order number
            if (
                pattern is AFTER_ORDER_WORD
                and "#" not in m.group(0)
                and value.isdigit()
                and (len(value) < 4 or (len(value) < 5 and _ORDER_VERB.search(before)))
            ):
                continue
            return value  # as written: the guide labels "a-7731", not "A-7731"
    return None


# ---------------------------------------------------------------------------
# Product
# ---------------------------------------------------------------------------

PRODUCT_NOUNS = (
    "smart watch", "smartwatch", "laptop", "notebook computer", "phone", "smartphone",
    "tablet", "headphones", "earbuds", "earphones", "headset", "speaker", "charger",
    "charging cable", "cable", "monitor", "keyboard", "mouse", "printer", "camera",
    "webcam", "router", "modem", "tv", "television", "console", "controller", "watch",
    "fitness tracker", "blender", "coffee maker", "coffee machine", "espresso machine",
    "vacuum", "robot vacuum", "air fryer", "microwave", "toaster", "kettle", "fridge",
    "washing machine", "dishwasher", "drone", "e-reader", "kindle", "hard drive", "ssd",
    "power bank", "mobile app", "app", "software", "subscription box", "shoes", "sneakers",
    "jacket", "dress", "shirt", "t-shirt", "jeans", "backpack", "bag", "mattress", "chair",
    "desk", "lamp", "sofa", "couch", "bike", "bicycle", "scooter", "stroller", "car seat",
    "thermostat", "doorbell", "security camera", "smart bulb", "smart plug", "gift card",
)  # fmt: skip
_PRODUCT_NOUN_RE = "|".join(re.escape(p) for p in sorted(PRODUCT_NOUNS, key=len, reverse=True))
_PRODUCT_PATTERNS = [
    # "my Acme SmartWatch X2", "the ProBook 450": capitalised words or model numbers
    re.compile(
        r"\b(?i:my|the|your|new|this|a|an)\s+"
        r"((?:[A-Z][\w\-]*|\d[\w\-]*)(?:\s+(?:[A-Z][\w\-]*|\d[\w\-]*)){0,3})"
    ),
    # "the Acme app"
    re.compile(r"\b(?i:the)\s+([A-Z][\w\-]*(?:\s+[A-Z][\w\-]*)?\s+app)\b"),
]
_GENERIC_CAPS = {
    "I", "Order", "Customer", "Support", "Team", "Hi", "Hello", "Monday", "Tuesday",
    "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January", "February", "March",
    "April", "May", "June", "July", "August", "September", "October", "November", "December",
    "US", "UK", "EU", "USA", "URGENT", "ASAP", "NOW", "FedEx", "UPS", "USPS", "DHL", "PayPal",
    "Visa", "Mastercard", "Amex", "Premium", "Basic", "Pro", "Free", "Gold", "Thanks", "Please",
    "Canada", "Germany", "France", "Europe", "Australia", "Mexico", "Christmas", "Black",
    "Gmail", "Outlook", "Google", "Apple", "iPhone", "Android", "Windows", "Mac", "Chrome",
}  # fmt: skip


MAX_PRODUCT = 60


def extract_product(text: str) -> str | None:
    """A product mentioned by name ("my Acme X2", "the Acme app") or a known product noun."""
    text = text or ""
    for m in _PRODUCT_PATTERNS[1].finditer(text):
        if len(m.group(1)) <= MAX_PRODUCT:
            return m.group(1)
    for m in _PRODUCT_PATTERNS[0].finditer(text):
        phrase = m.group(1).strip()
        if len(phrase) > MAX_PRODUCT:
            continue  # no product is called that: echoed, it would overrun the answer
        tokens = phrase.split()
        while tokens and tokens[-1] in _GENERIC_CAPS:
            tokens.pop()
        if not tokens or tokens[0] in _GENERIC_CAPS or phrase.isupper() and len(tokens) == 1:
            continue
        if all(t.isdigit() for t in tokens):
            continue
        # extend with a following product noun: "my Acme X2 headphones"
        tail = re.match(rf"\s+((?:{_PRODUCT_NOUN_RE}))\b", text[m.end() :], re.IGNORECASE)
        name = " ".join(tokens)
        if tail and len(tokens) == len(phrase.split()):
            name += " " + tail.group(1).lower()
        return name
    low = normalize(text)
    m = re.search(rf"\b({_PRODUCT_NOUN_RE})\b", low)
    if m:
        return m.group(1)
    return None


# ---------------------------------------------------------------------------
# Urgency
# ---------------------------------------------------------------------------

LEGAL_THREAT = (
    "lawyer", "attorney", "sue you", "sue your", "sue the", "to sue", "will sue", "suing",
    "legal action", "legal steps", "take legal", "my legal team", "in court", "to court",
    "small claims", "chargeback", "report you", "reporting you", "better business bureau", "bbb",
    "consumer protection", "trading standards", "ombudsman",
)  # fmt: skip
HIGH_URGENCY = (
    "immediately", "urgent", "urgently", "asap", "as soon as possible", "right now",
    "right away", "straight away", "emergency", "critical", "by tomorrow", "by tonight",
    "by end of day", "by eod", "by monday", "by tuesday", "by wednesday", "by thursday",
    "by friday", "by saturday", "by sunday", "deadline", "within the hour", "time sensitive",
    "can't wait any longer", "cannot wait any longer", "now!", "unacceptable",
    "production is down", "site is down", "business is down", "losing money", "losing customers",
    "can't work", "cannot work", "lost all my data", "deleted all my data", "hacked",
    "unauthorized", "fraud", "stolen", *LEGAL_THREAT,
)  # fmt: skip
LOW_URGENCY = (
    "no rush", "no hurry", "whenever", "when you get a chance", "when you have time",
    "at your convenience", "not urgent", "no big deal", "just curious", "just wondering",
    "feature request", "suggestion", "would be nice", "it would be great if", "would love to see",
    "idea", "for future", "in the future", "just wanted to say", "just want to say",
    "keep up the good work", "someday", "not a big deal", "low priority",
)  # fmt: skip
HUMAN_REQUEST = (
    "speak to a human", "talk to a human", "speak to a person", "talk to a person",
    "real person", "human agent", "live agent", "speak to a manager", "talk to a manager",
    "speak with a manager", "speak with a human", "your manager", "to a manager",
    "with a manager", "supervisor", "someone in charge", "escalate this", "escalate my",
    "a real human", "not a bot", "talk to someone", "speak to someone", "speak with someone",
    "want a manager", "need a manager", "get a manager", "a manager to", "someone from your",
    "by phone", "phone call", "call me",
)  # fmt: skip
_CAPS_URGENT = re.compile(r"\b(?:URGENT|NOW|ASAP|IMMEDIATELY)\b")


# "not urgent" must not count as "urgent"; "today" only counts as a deadline.
_NOT_URGENT = re.compile(
    r"\b(?:not|isn't|is not|no|nothing)\s+(?:that\s+|very\s+|super\s+)?(?:urgent|an emergency|"
    r"critical|a rush|pressing)\b",
    re.IGNORECASE,
)
_DEADLINE_TODAY = re.compile(
    r"\b(?:need|needs|needed|must|have to|has to|by|before|until|deliver\w*|arrive|fix\w*|"
    r"sort\w* out|resolve\w*|ship\w*|done|answer|decid\w*)\b[^.!?]{0,40}\b(?:today|tonight)\b"
    r"|\b(?:today|tonight)\s*!|\bend of (?:the )?day\b"
)


def has_legal_threat(text: str) -> bool:
    return any_match(LEGAL_THREAT, text)


def wants_human(text: str) -> bool:
    return any_match(HUMAN_REQUEST, text)


def detect_urgency(text: str, sentiment: str, is_question: bool, has_problem: bool) -> str:
    """high / medium / low from deadline, legal and intensity cues (see the brief in tests)."""
    clean = _NOT_URGENT.sub(" ", (text or ""))
    if (
        any_match(HIGH_URGENCY, clean)
        or _CAPS_URGENT.search(clean)
        or _DEADLINE_TODAY.search(normalize(clean))
    ):
        return "high"
    if "!!" in clean and sentiment == "negative":
        return "high"
    if any_match(LOW_URGENCY, clean):
        return "low"
    if sentiment != "negative" and not has_problem and (is_question or sentiment == "positive"):
        return "low"
    return "medium"


# ---------------------------------------------------------------------------
# The main issue, used for subjects, summaries and suggested solutions
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Issue:
    key: str
    category: str
    subject: str  # 3+ words, title-like
    phrase: str  # fits "about ___" in a reply


ISSUES: list[tuple[tuple[str, ...], Issue]] = [
    (("charged twice", "charged me twice", "double charged", "double charge", "duplicate charge",
      "charged two times", "billed twice", "two charges"),
     Issue("double_charge", "billing", "Double charge", "the double charge")),
    (("unauthorized charge", "didn't authorize", "did not authorize", "don't recognize"),
     Issue("unknown_charge", "billing", "Unrecognised charge", "the charge you don't recognise")),
    (("overcharged", "charged more", "wrong amount", "charged the wrong"),
     Issue("overcharge", "billing", "Incorrect charge amount", "the incorrect charge")),
    (("declined", "payment failed", "payment didn't go through", "payment did not go through",
      "card was rejected", "payment error", "can't pay", "cannot pay", "unable to pay"),
     Issue("payment_failed", "billing", "Payment not going through", "the failed payment")),
    (("cancel my subscription", "cancel the subscription", "cancel subscription",
      "cancel my plan", "cancel my membership", "stop my subscription", "unsubscribe"),
     Issue("cancel_subscription", "billing", "Subscription cancellation request",
           "cancelling your subscription")),
    (("refund", "money back", "reimburse"),
     Issue("refund", "billing", "Refund request", "your refund request")),
    (("invoice", "receipt", "billing statement"),
     Issue("invoice", "billing", "Invoice or receipt request", "your invoice")),
    (("damaged", "broken on arrival", "arrived broken", "smashed", "crushed", "dented"),
     Issue("damaged_item", "shipping", "Damaged item received", "the damaged item")),
    (("wrong item", "wrong size", "wrong color", "wrong colour", "wrong product",
      "not what i ordered", "missing item", "missing items", "missing from"),
     Issue("wrong_item", "shipping", "Wrong or missing item", "the wrong or missing item")),
    (("change my address", "change the address", "shipping address", "delivery address",
      "wrong address", "update my address"),
     Issue("address_change", "shipping", "Delivery address change", "your delivery address")),
    (("hasn't arrived", "has not arrived", "not arrived", "never arrived", "didn't arrive",
      "not received", "haven't received", "never received", "where is my", "where's my",
      "still waiting", "late", "delayed", "lost", "not delivered"),
     Issue("late_delivery", "shipping", "Package not yet delivered", "your delayed delivery")),
    (("tracking", "track my", "track the"),
     Issue("tracking", "shipping", "Order tracking question", "tracking your order")),
    (("ship to", "shipping to", "deliver to", "international shipping", "shipping cost",
      "shipping options", "how long does shipping", "delivery time"),
     Issue("shipping_question", "shipping", "Shipping options question", "our shipping options")),
    (("locked out", "can't log in", "cannot log in", "can't login", "unable to log in",
      "can't sign in", "cannot sign in", "unable to sign in", "login", "log in", "sign in"),
     Issue("login", "account", "Unable to log in", "signing in to your account")),
    (("password",), Issue("password", "account", "Password reset help", "resetting your password")),
    (("2fa", "two-factor", "two factor", "verification code", "authenticator", "one-time code"),
     Issue("two_factor", "account", "Two-factor authentication problem",
           "two-factor authentication")),
    (("change my email", "update my email", "email address", "new email", "email change"),
     Issue("email_change", "account", "Account email change", "changing your account email")),
    (("delete my account", "close my account", "deactivate", "delete my data"),
     Issue("delete_account", "account", "Account deletion request", "closing your account")),
    (("hacked", "unauthorized access", "someone accessed", "suspicious activity"),
     Issue("security", "account", "Possible unauthorized account access", "your account security")),
    (("crash", "crashes", "crashing", "crashed", "freezes", "freezing", "froze"),
     Issue("crash", "technical", "App crashing or freezing", "the crashes")),
    (("sync", "syncing"), Issue("sync", "technical", "Data not syncing", "the sync problem")),
    (("error", "bug", "glitch"),
     Issue("error", "technical", "Error message in the app", "the error you're seeing")),
    (("not working", "doesn't work", "stopped working", "won't turn on", "won't load",
      "won't start", "won't connect", "won't charge", "broken", "slow", "not loading"),
     Issue("not_working", "technical", "Product not working properly",
           "the problem you're seeing")),
    (("install", "set up", "setup", "configure", "how do i", "how to", "how can i"),
     Issue("how_to", "technical", "How-to question about setup", "your setup question")),
    (("compatible", "compatibility", "work with", "works with"),
     Issue("compatibility", "product", "Product compatibility question", "compatibility")),
    (("feature request", "would be nice", "would love to see", "please add", "add support",
      "dark mode", "suggestion", "it would be great if"),
     Issue("feature_request", "product", "Feature suggestion from customer", "your feature idea")),
    (("recommend", "which one", "which model", "difference between", "compare"),
     Issue("recommendation", "product", "Product recommendation request",
           "choosing the right product")),
    (("in stock", "back in stock", "availability", "available"),
     Issue("availability", "product", "Product availability question", "product availability")),
    (("specs", "specification", "dimensions", "battery life", "waterproof", "warranty",
      "material", "size"),
     Issue("specs", "product", "Product specifications question", "the product details")),
    (("hours", "open on", "are you open", "holiday"),
     Issue("hours", "general", "Business hours question", "our opening hours")),
    (("thank", "love", "great job", "amazing", "keep up", "kudos", "compliment", "wonderful",
      "excellent"),
     Issue("praise", "general", "Positive customer feedback", "your kind feedback")),
    (("feedback", "suggest"),
     Issue("feedback", "general", "Customer feedback received", "your feedback")),
]  # fmt: skip

FALLBACK_ISSUES = {
    "technical": Issue(
        "technical", "technical", "Technical support request", "the technical issue"
    ),
    "billing": Issue(
        "billing", "billing", "Billing question from customer", "your billing question"
    ),
    "shipping": Issue("shipping", "shipping", "Shipping and delivery question", "your delivery"),
    "product": Issue("product", "product", "Question about our products", "your product question"),
    "account": Issue("account", "account", "Account help request", "your account"),
    "general": Issue("general", "general", "General customer inquiry", "your question"),
}


def detect_issues(text: str) -> list[Issue]:
    """All issues whose cue phrases occur in the message, in table order."""
    clean = text or ""
    return [issue for cues, issue in ISSUES if any_match(cues, clean)]


def main_issue(text: str, inquiry_type: str) -> Issue:
    """The first detected issue of the message's category, else the first of any, else generic."""
    issues = detect_issues(text)
    for issue in issues:
        if issue.category == inquiry_type:
            return issue
    return FALLBACK_ISSUES.get(inquiry_type, FALLBACK_ISSUES["general"])


def make_subject(issue: Issue, order_id: str | None, product: str | None) -> str:
    """A 3-8 word subject such as "Double charge on order #12345"."""
    subject = issue.subject
    if order_id and issue.category in ("billing", "shipping"):
        subject += f" on order #{order_id}"
    elif product and len(words(product)) <= 3 and issue.category in ("technical", "product"):
        subject += f" ({product})"
    tokens = subject.split()
    if len(tokens) > 8:
        subject = " ".join(tokens[:8])
    while len(subject.split()) < 3:
        subject += " request"
    return subject
