"""Small general tables about English personal names: common first names by gender and the
usual nicknames of formal first names (Lizzy for Elizabeth, Bill for William).

Only names common across English-language fiction belong here, never a particular book's cast.
"""

from __future__ import annotations

from pipelines.script.dialogue import wordset

MALE_FIRST_NAMES = wordset(
    "aaron abraham adam adolphus albert alexander alfred algernon allan ambrose andrew "
    "anthony antony archibald arthur augustus austin barnaby bartholomew basil ben benjamin "
    "bernard bertie bertram bill billy bob bobby cecil charles charley charlie christopher "
    "clarence claude cyril daniel david denis dick donald douglas dudley ebenezer edgar "
    "edmund edward edwin ernest eugene felix ferdinand francis frank fred freddy frederick "
    "gabriel geoffrey george gerald gilbert giles godfrey gregory guy harold harry henry "
    "herbert horace hubert hugh humphrey isaac ivan jack jacob jake james jasper "
    "jem jim jimmy joe john jonathan joseph josiah julian julius kit lambert laurence "
    "lawrence leonard leopold lewis lionel louis luke mark martin matthew maurice michael "
    "ned neville nicholas nick noah oliver oscar owen patrick paul percy peter "
    "philip ralph randolph raymond reginald richard robert roderick roger ronald rupert "
    "samuel sam sebastian sidney simon stephen steven ted teddy theodore thomas tim "
    "timothy toby tom tommy valentine victor vincent walter wilfred will william willie "
    "willy"
)
FEMALE_FIRST_NAMES = wordset(
    "ada adela adelaide agatha agnes alice amelia amy angela ann anna anne annie arabella "
    "augusta barbara beatrice becky bella belle bess bessie betsy betty blanche bridget "
    "caroline carrie catharine catherine cecilia cecily charlotte clara clarissa constance "
    "cordelia cynthia daisy deborah diana dinah dolly dora dorothea dorothy edith eleanor "
    "eliza elizabeth ella ellen elsie emily emma esther ethel eugenia eva evelyn fanny flora "
    "florence frances georgiana georgina geraldine gertrude grace hannah harriet hattie hatty "
    "helen "
    "henrietta hester hetty ida irene isabel isabella jane janet jemima jennie jenny jessie "
    "joan josephine josie judith julia juliet kate katherine kathleen katie kitty laura "
    "lavinia letitia lilian lily lizzie lizzy lois louisa louise lucia lucy lydia "
    "mabel madeline maggie margaret maria marian marianne marie martha mary matilda "
    "maud maude meg mildred milly myrtle minnie miriam molly nancy nell nellie nelly nora "
    "olive olivia "
    "patty pearl peggy penelope phoebe polly priscilla rachel rebecca rhoda rosa "
    "rosalind rose ruby ruth sadie sally sarah selina sophia sophie susan susanna sybil sylvia "
    "theresa ursula victoria violet winifred"
)
# Nickname -> the formal first names it may stand for.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "lizzy": ("elizabeth", "eliza"),
    "lizzie": ("elizabeth", "eliza"),
    "liz": ("elizabeth",),
    "eliza": ("elizabeth",),
    "betsy": ("elizabeth",),
    "betty": ("elizabeth",),
    "bess": ("elizabeth",),
    "bessie": ("elizabeth",),
    "beth": ("elizabeth",),
    "lydie": ("lydia",),
    "kitty": ("catherine", "katherine", "catharine"),
    "kate": ("catherine", "katherine", "catharine"),
    "katie": ("catherine", "katherine"),
    "fanny": ("frances",),
    "jenny": ("jane", "jennifer"),
    "jennie": ("jane",),
    "nancy": ("ann", "anne", "anna"),
    "nance": ("nancy", "ann", "anne"),
    "annie": ("ann", "anne", "anna"),
    "molly": ("mary",),
    "polly": ("mary",),
    "mamie": ("mary",),
    "peggy": ("margaret",),
    "meg": ("margaret",),
    "maggie": ("margaret",),
    "sally": ("sarah",),
    "patty": ("martha",),
    "dolly": ("dorothy",),
    "nell": ("eleanor", "ellen", "helen"),
    "nelly": ("eleanor", "ellen", "helen"),
    "nellie": ("eleanor", "ellen", "helen"),
    "sukey": ("susan",),
    "sue": ("susan",),
    "tilly": ("matilda",),
    "milly": ("mildred", "amelia"),
    "jack": ("john",),
    "johnny": ("john",),
    "bill": ("william",),
    "billy": ("william",),
    "will": ("william",),
    "willie": ("william",),
    "willy": ("william",),
    "bob": ("robert",),
    "bobby": ("robert",),
    "rob": ("robert",),
    "dick": ("richard",),
    "ned": ("edward", "edmund"),
    "ted": ("edward", "theodore"),
    "teddy": ("edward", "theodore"),
    "tom": ("thomas",),
    "tommy": ("thomas",),
    "harry": ("henry", "harold"),
    "hal": ("henry",),
    "charley": ("charles",),
    "charlie": ("charles",),
    "fred": ("frederick", "alfred"),
    "freddy": ("frederick", "alfred"),
    "freddie": ("frederick",),
    "sam": ("samuel",),
    "sammy": ("samuel",),
    "jim": ("james",),
    "jimmy": ("james",),
    "jem": ("james",),
    "joe": ("joseph",),
    "nick": ("nicholas",),
    "tony": ("anthony", "antony"),
    "ben": ("benjamin",),
    "matt": ("matthew",),
    "nat": ("nathaniel",),
    "kit": ("christopher",),
    "bertie": ("albert", "herbert", "bertram"),
}


# Forms of a kinship title that name the same person ("Grandmamma" is "Grandmother").
KIN_FORMS: dict[str, str] = {
    "grandmamma": "grandmother",
    "grandmama": "grandmother",
    "grandma": "grandmother",
    "granny": "grandmother",
    "grannie": "grandmother",
    "grandpapa": "grandfather",
    "grandpa": "grandfather",
    "mamma": "mother",
    "mama": "mother",
    "mammy": "mother",
    "papa": "father",
}


# Russian patronymics and the names made like them, as translations write them: Ivanovitch,
# Potapitch (a man), Alexandrovna (a woman).
_MALE_ENDINGS = ("vitch", "vich", "itch", "ich")
_FEMALE_ENDINGS = ("ovna", "evna", "ichna", "inichna")


def first_name_gender(word: str) -> str:
    w = word.lower()
    if w in FEMALE_FIRST_NAMES:
        return "female"
    if w in MALE_FIRST_NAMES:
        return "male"
    if len(w) > 5 and w.endswith(_FEMALE_ENDINGS):
        return "female"
    if len(w) > 5 and w.endswith(_MALE_ENDINGS):
        return "male"
    return ""
