"""The spatial vocabulary of CT radiology, per category, as data.

Each entry is a regular-expression fragment (word boundaries are added when compiled), written
for the language of chest CT reports and of questions asked about them. The vocabulary is the
whole of the rules classifier's knowledge: tuning the baseline means editing these tuples, not
the code that reads them.

Two tiers per category:

* ``STRONG_TERMS`` name a position or relation on their own ("left", "posteriorly", "subpleural",
  "abutting"): one in a question or answer makes the item spatial.
* ``WEAK_TERMS`` are spatial words that CT boilerplate also uses without asking *where*
  ("bilateral adrenal glands", "mediastinal lymph nodes", "4 mm", "within normal limits"): they
  tag a category but, alone in the answer, do not make an item spatial.

``QUESTION_CUES`` are phrasings that ask for a location or an extent outright ("where", "which
lobe", "unilateral or bilateral", "how many lobes"); ``LOCATOR_TERMS`` are anatomical names that
imply a position (a lobe implies a side and a level) and the categories they imply.
"""

from __future__ import annotations

from .categories import ADJACENCY, CENTRICITY, DEPTH, EXTENT, LATERALITY, LONGITUDINAL

# Paired structures: "both <x>" is laterality only when <x> is one of these, never the
# conjunction "both A and B".
PAIRED_STRUCTURES = (
    r"lungs?", r"sides?", r"hemithora(?:x|ces)", r"hil(?:a|um|i|uses?|ar)", r"axilla(?:e|ry)?",
    r"axillae", r"kidneys?", r"adrenals?", r"breasts?", r"lobes",
    r"pleura[el]?", r"apices", r"bases", r"hemidiaphragms?", r"clavicles?", r"lower lobes",
    r"upper lobes", r"lung (?:bases|apices|fields|parenchyma|lower lobes|upper lobes)",
    r"(?:supraclavicular|axillary|hilar|inguinal) (?:regions?|fossae?|areas?)",
)
_PAIRED = "(?:" + "|".join(PAIRED_STRUCTURES) + ")"

STRONG_TERMS: dict[str, tuple[str, ...]] = {
    LATERALITY: (
        r"right", r"left", r"unilateral(?:ly)?", r"contralateral", r"ipsilateral",
        r"asymmetric(?:al(?:ly)?)?", r"asymmetry", r"dextro\w*", r"levo\w*", r"laterality",
        r"(?:right|left)[- ]sided", r"one side", r"either side", r"each side", r"other side",
        r"which (?:lung|side|hemithorax|kidney|adrenal|breast|axilla|hilum)", r"lingula(?:r)?",
        r"R[UML]L", r"L[UL]L",
    ),
    LONGITUDINAL: (
        r"upper lobes?", r"lower lobes?", r"middle lobe",
        r"(?:upper|middle|mid|lower)[- ]?"
        r"(?:zones?|thirds?|poles?|parts?|portions?|segments?|levels?|sections?)",
        r"apical(?:ly)?", r"apex", r"apices", r"apicoposterior", r"basal(?:ly)?", r"bibasal(?:ly)?",
        r"(?:lung|pulmonary) bases?", r"bases of (?:the|both) lungs?", r"superior(?:ly)?",
        r"inferior(?:ly)?", r"cranial(?:ly)?", r"caudal(?:ly)?", r"cephalad", r"craniocaudal",
        r"above", r"below", r"supra(?:carinal|diaphragmatic|hilar|aortic)",
        r"infra(?:carinal|hilar|diaphragmatic)",
        r"subcarinal", r"subdiaphragmatic", r"(?:at|to) the level", r"levels? of",
        r"[TLC]\d{1,2}(?:[- ][TLC]?\d{1,2})?(?: vertebra\w*| level)?", r"vertical(?:ly)?",
        r"posterobasal", r"anterobasal", r"laterobasal", r"mediobasal", r"lingula(?:r)?",
        r"R[UML]L", r"L[UL]L", r"superior segments?", r"higher", r"lower part",
    ),
    DEPTH: (
        r"anterior(?:ly)?", r"posterior(?:ly)?", r"antero\w+", r"postero\w+", r"ventral(?:ly)?",
        r"dorsal(?:ly)?", r"dependent", r"non-?dependent", r"in front of", r"behind",
        r"retro(?:sternal|crural|cardiac|tracheal|caval|peritoneal|bulbar|aortic)",
        r"pre(?:vascular|tracheal|-?paratracheal|carinal|vertebral|sternal|aortic)",
        r"front", r"back",
    ),
    CENTRICITY: (
        r"central(?:ly)?", r"peripheral(?:ly)?", r"periphery", r"medial(?:ly)?", r"lateral(?:ly)?",
        r"perihilar", r"parahilar", r"subpleural", r"midline", r"paramedian", r"centrilobular",
        r"peribronchial", r"peribronchovascular", r"paratracheal", r"paravertebral", r"paraspinal",
        r"paraesophageal", r"paracardiac", r"juxta\w+", r"mediobasal", r"laterobasal",
        r"(?:inner|outer) (?:part|portion|third|zone)", r"core",
    ),
    ADJACENCY: (
        r"adjacent", r"abut(?:s|ting|ment)?", r"(?:in )?contact", r"touch(?:es|ing)?",
        r"invad(?:es|ing|ed)", r"invasion", r"infiltrat(?:es|ing) (?:into|the)",
        r"encas(?:es|ing|ement)", r"surround(?:s|ing|ed)?", r"around",
        r"cross(?:es|ing|ed)?(?!-)",  # not "cross-sectional"
        r"extend(?:s|ing|ed)? (?:into|to|from|through|toward|towards)",
        r"extension (?:into|to)", r"fissures?", r"interlobar", r"compress(?:es|ing|ed|ion)",
        r"next to", r"close to", r"near(?:by)?", r"neighbou?ring", r"bordering",
        r"attached", r"protru\w+",
        r"herniat\w+", r"displac(?:es|ing|ed|ement)", r"between", r"along",
        r"(?:in|on|at) the (?:wall|surface)",
        r"inside", r"outside", r"contain(?:s|ing|ed)?", r"located (?:in|within|on|at)",
    ),
    EXTENT: (
        r"extent", r"involv(?:e|es|ing|ed|ement)", r"diffuse(?:ly)?", r"focal(?:ly)?",
        r"multifocal",
        r"widespread", r"extensive(?:ly)?", r"localized", r"localised", r"boundar(?:y|ies)",
        r"margins?", r"spann?(?:s|ing|ed)?", r"how many (?:lobes|segments|lungs|sides|levels)",
        r"number of (?:lobes|segments|levels)", r"(?:all|multiple|several|both) lobes",
        r"(?:larger|smaller|bigger|greater|less|more) than", r"confined to", r"limited to",
        r"throughout", r"entire", r"extending", r"craniocaudal",
    ),
}

WEAK_TERMS: dict[str, tuple[str, ...]] = {
    LATERALITY: (r"bilateral(?:ly)?", r"both " + _PAIRED, r"both (?:\w+ ){1,2}" + _PAIRED,
                 r"symmetric(?:al(?:ly)?)?", r"sides?", r"hemithora(?:x|ces)"),
    LONGITUDINAL: (r"upper", r"lower", r"middle", r"mid", r"level", r"supraclavicular", r"lobe"),
    DEPTH: (),
    CENTRICITY: (r"hil(?:ar|um|a|uses?)", r"mediastin(?:al|um)"),
    # Containment as the upstream tagger reads it: a finding placed "in" a structure.
    ADJACENCY: (r"within", r"intra\w+", r"extra\w+",
                r"(?:observed|seen|found|detected|noted|present|situated|identified) (?:in|on|at)",
                r"(?:segments?|lobes?|parts?|portions?|walls?|regions?|areas?) of the"),
    EXTENT: (r"scattered", r"disseminated", r"whole", r"multilobar", r"multisegment\w*",
             r"bridging", r"extension"),
}

# Phrasings that ask for a position, a relation or an extent. A match in the question alone
# makes the item spatial; the category list says which categories the phrasing implies.
QUESTION_CUES: dict[str, tuple[str, ...]] = {
    r"where": (),
    r"in which (?:part|region|area|zone|segment|portion|location)s?": (),
    r"which (?:part|region|area|zone|segment|portion|location|structure|organ)s?": (),
    r"which (?:lung|side|hemithorax)": (LATERALITY,),
    r"which (?:lobe|lobes)": (LATERALITY, LONGITUDINAL),
    r"(?:what|which) (?:is|was) the (?:location|position|distribution|side|level)": (),
    r"locat(?:ed|ion|ions)": (),
    r"positioned|position": (),
    r"situated": (),
    r"distribut(?:ed|ion)": (EXTENT,),
    r"unilateral(?:ly)? or bilateral(?:ly)?|bilateral(?:ly)? or unilateral(?:ly)?": (LATERALITY,),
    r"(?:right|left) or (?:right|left)": (LATERALITY,),
    r"how many (?:lobes|segments|lungs|sides|levels)": (EXTENT,),
    r"how (?:large|big|extensive|far)": (EXTENT,),
    r"(?:what|which) (?:is|was|are|were) the (?:\w+ )?"
    r"(?:extent|distribution|length|size|diameter|dimensions?)": (EXTENT,),
    r"how (?:much|many|long|thick)": (EXTENT,),
    r"measur(?:e|es|ing) (?:more|less|over|under|above|below)": (EXTENT,),
}

# Anatomical names that imply a position, and the categories they imply. "The lingula" says
# left and upper without either word.
LOCATOR_TERMS: dict[str, tuple[str, ...]] = {
    r"(?:right|left) (?:lung )?(?:upper|middle|lower) lobes?": (LATERALITY, LONGITUDINAL),
    r"R[UML]L|L[UL]L": (LATERALITY, LONGITUDINAL),
    r"lingula(?:r)?": (LATERALITY, LONGITUDINAL),
    # Not after a count: "how many lobes" asks for extent, not for a side or level.
    r"(?<!many )(?<!number of )(?<!multiple )(?<!several )(?<!all )(?:lobes?|lobar)": (
        LATERALITY, LONGITUDINAL),
    r"(?:apical|posterior|anterior|superior|lateral|medial|basal)\w* segments?": (LONGITUDINAL,),
    r"carina": (LONGITUDINAL,),
    r"costophrenic (?:angle|sinus|recess)\w*": (LONGITUDINAL, CENTRICITY),
}
