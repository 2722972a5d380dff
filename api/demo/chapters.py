"""The demo's seven chapters, one per case, each reading top to bottom as its own
story. Every person, alias and fact in them is invented."""

from __future__ import annotations

from api.demo.clock import Chapter, at
from api.demo.story import Story
from domain.referral import Move


def cav_utente_a(s: Story) -> Chapter:
    """A woman comes to the CAV; high risk; health, police, school, AFOL, social services."""
    yield at(0, "09:30")
    ref = s.open_case("cav-scirocco")
    s.note("cav-scirocco", ref, "identity", "Alias «Utente A.», nata nel 1988, due figli.")
    s.note("cav-scirocco", ref, "safety", "Contatto sicuro: solo tramite la sorella, dopo le 18.")
    s.note(
        "cav-scirocco",
        ref,
        "violence",
        "Violenza psicologica ed economica da due anni; negli ultimi mesi anche fisica.",
    )
    s.note("cav-scirocco", ref, "health", "Dolore al braccio dopo l'ultimo episodio, non visitata.")
    s.note("cav-scirocco", ref, "children", "Due figli di 7 e 10 anni, hanno assistito ai litigi.")
    s.assess("cav-scirocco", ref, ["escalation", "strangulation", "death_threats", "her_fear"])
    s.consent(
        "cav-scirocco",
        ref,
        kinds=["health", "police", "school", "social_services"],
        services=["afol-metropolitana"],
        purposes=[
            "health_assessment",
            "protection_measures",
            "school_support",
            "social_support",
            "job_placement",
        ],
        categories=["identity", "safety", "violence", "health", "children", "risk", "employment"],
    )
    yield at(0, "11:00")
    health = s.refer(
        "cav-scirocco",
        ref,
        "asst-rhodense",
        "health_assessment",
        "urgent",
        "Visita e refertazione delle lesioni al braccio.",
        ["identity", "violence", "health"],
    )
    police = s.refer(
        "cav-scirocco",
        ref,
        "pl-cesano",
        "protection_measures",
        "urgent",
        "Rischio alto: valutare misure di protezione e ammonimento.",
        ["identity", "safety", "violence", "risk"],
    )
    yield at(1, "08:40")
    s.move("asst-rhodense", health, Move.ACKNOWLEDGE)
    yield at(1, "09:15")
    s.move("pl-cesano", police, Move.ACKNOWLEDGE)
    yield at(1, "10:00")
    s.move("asst-rhodense", health, Move.ACCEPT)
    yield at(1, "12:00")
    s.move("pl-cesano", police, Move.ACCEPT, role="coordinator")
    yield at(2, "10:30")
    school = s.refer(
        "cav-scirocco",
        ref,
        "ic-alessandrini",
        "school_support",
        "routine",
        "Attenzione educativa per i due figli; nessuna consegna al padre senza verifica.",
        ["children"],
    )
    yield at(3, "09:00")
    s.note("asst-rhodense", ref, "health", "Ecchimosi documentate; frattura esclusa.")
    s.move("ic-alessandrini", school, Move.ACKNOWLEDGE)
    yield at(4, "08:15")
    s.move("ic-alessandrini", school, Move.ACCEPT, role="coordinator")
    yield at(9, "15:00")
    s.move("asst-rhodense", health, Move.COMPLETE)
    yield at(20, "11:00")
    s.note(
        "cav-scirocco",
        ref,
        "employment",
        "Diploma di ragioneria; cerca un part-time compatibile con la scuola dei figli.",
    )
    afol = s.refer(
        "cav-scirocco",
        ref,
        "afol-metropolitana",
        "job_placement",
        "routine",
        "Orientamento al lavoro e bilancio di competenze.",
        ["identity", "employment"],
    )
    yield at(21, "09:30")
    s.move("afol-metropolitana", afol, Move.ACKNOWLEDGE)
    yield at(26, "16:00")
    s.refer(
        "cav-scirocco",
        ref,
        "ss-cesano",
        "social_support",
        "routine",
        "Sostegno economico e abitativo in vista dell'uscita dalla casa familiare.",
        ["identity", "safety", "children"],
    )


def school_mandatory_report(s: Story) -> Chapter:
    """A primary school learns of violence at home: a mandatory report (art. 331 c.p.p.)."""
    yield at(4, "08:50")
    ref = s.open_case("ic-alessandrini")
    s.note(
        "ic-alessandrini",
        ref,
        "children",
        "Alunno B., 3ª primaria: racconta alla maestra che il papà picchia la mamma.",
    )
    yield at(4, "10:30")
    report = dict(
        basis="legal_obligation",
        statute="art. 331 c.p.p.",
        justification="Notizia di possibile reato (violenza assistita) appresa in servizio.",
        role="coordinator",
    )
    social = s.refer(
        "ic-alessandrini",
        ref,
        "ss-cesano",
        "child_protection",
        "urgent",
        "Segnalazione obbligatoria: minore testimone di violenza domestica.",
        ["children"],
        **report,
    )
    police = s.refer(
        "ic-alessandrini",
        ref,
        "pl-cesano",
        "protection_measures",
        "urgent",
        "Segnalazione obbligatoria per l'inoltro all'autorità giudiziaria.",
        ["children"],
        **report,
    )
    yield at(4, "11:30")
    s.move("pl-cesano", police, Move.ACKNOWLEDGE)
    yield at(4, "14:00")
    s.move("ss-cesano", social, Move.ACKNOWLEDGE)
    yield at(4, "16:00")
    s.move("pl-cesano", police, Move.ACCEPT, role="coordinator")
    yield at(5, "09:00")
    s.move("ss-cesano", social, Move.ACCEPT, role="coordinator")
    yield at(6, "15:30")
    s.note("ss-cesano", ref, "children", "Colloquio con la madre; il minore è seguito a scuola.")


def school_declined_then_social(s: Story) -> Chapter:
    """A middle school, with the mother's consent, asks for support: declined, then re-sent."""
    yield at(6, "10:00")
    ref = s.open_case("ic-leonardo")
    s.note(
        "ic-leonardo",
        ref,
        "children",
        "Alunna C., 1ª media: si isola, racconta di litigi violenti in casa.",
    )
    s.consent(
        "ic-leonardo",
        ref,
        kinds=["health", "social_services"],
        purposes=["psychological_support", "social_support"],
        categories=["children"],
    )
    psych = s.refer(
        "ic-leonardo",
        ref,
        "asst-rhodense",
        "psychological_support",
        "routine",
        "Sostegno psicologico per l'alunna, richiesto dalla madre.",
        ["children"],
    )
    yield at(7, "11:20")
    s.move(
        "asst-rhodense",
        psych,
        Move.DECLINE,
        reason="Per i minori l'accesso passa dalla neuropsichiatria infantile, via pediatra.",
    )
    yield at(8, "09:10")
    social = s.refer(
        "ic-leonardo",
        ref,
        "ss-cesano",
        "social_support",
        "routine",
        "Sostegno alla famiglia e raccordo con la neuropsichiatria infantile.",
        ["children"],
    )
    yield at(8, "15:40")
    s.move("ss-cesano", social, Move.ACKNOWLEDGE)
    yield at(10, "10:00")
    s.move("ss-cesano", social, Move.ACCEPT)


def emergency_room_night(s: Story) -> Chapter:
    """The emergency room at night: an emergency referral nobody answers, then expired."""
    yield at(9, "22:10")
    ref = s.open_case("asst-rhodense")
    s.note("asst-rhodense", ref, "health", "Trauma contusivo al volto e al torace, prognosi 10 gg.")
    s.note("asst-rhodense", ref, "violence", "Riferisce aggressione dell'ex compagno sotto casa.")
    s.note("asst-rhodense", ref, "safety", "Non vuole rientrare a casa stanotte.")
    s.assess(
        "asst-rhodense",
        ref,
        ["escalation", "separation", "stalking"],
        judgement="high",
        justification="Aggressione in strada dopo la separazione e appostamenti ripetuti.",
    )
    s.consent(
        "asst-rhodense",
        ref,
        kinds=["cav"],
        purposes=["shelter", "psychological_support"],
        categories=["identity", "safety", "violence", "risk"],
    )
    yield at(9, "22:40")
    shelter = s.refer(
        "asst-rhodense",
        ref,
        "cav-scirocco",
        "shelter",
        "emergency",
        "Ospitalità protetta per questa notte.",
        ["identity", "safety", "violence", "risk"],
    )
    referto = s.refer(
        "asst-rhodense",
        ref,
        "pl-cesano",
        "protection_measures",
        "urgent",
        "Referto per lesioni personali da aggressione.",
        ["identity", "violence"],
        basis="legal_obligation",
        statute="art. 365 c.p.; art. 334 c.p.p.",
        justification="Lesioni da aggressione: referto obbligatorio del sanitario.",
    )
    yield at(10, "07:30")
    s.move("pl-cesano", referto, Move.ACKNOWLEDGE)
    yield at(10, "08:30")
    s.move("asst-rhodense", shelter, Move.EXPIRE, role="coordinator")
    again = s.refer(
        "asst-rhodense",
        ref,
        "cav-scirocco",
        "shelter",
        "urgent",
        "Ospitalità protetta: la richiesta notturna non ha avuto risposta.",
        ["identity", "safety", "violence", "risk"],
    )
    yield at(10, "08:50")
    s.move("cav-scirocco", again, Move.ACKNOWLEDGE)
    yield at(10, "09:30")
    s.move("cav-scirocco", again, Move.ACCEPT, role="coordinator")
    yield at(10, "11:00")
    s.move("pl-cesano", referto, Move.ACCEPT, role="coordinator")


def police_consent_withdrawn(s: Story) -> Chapter:
    """The police after a call-out: a referral withdrawn, a consent withdrawn."""
    yield at(13, "19:20")
    ref = s.open_case("pl-cesano")
    s.note("pl-cesano", ref, "identity", "Alias «Utente E.», 45 anni, vive con marito e suocera.")
    s.note("pl-cesano", ref, "violence", "Minacce e spintoni riferiti, nessuna lesione visibile.")
    s.note(
        "pl-cesano", ref, "legal", "Per ora non intende sporgere querela; informata dei diritti."
    )
    s.consent(
        "pl-cesano",
        ref,
        kinds=["cav"],
        purposes=["psychological_support", "legal_advice"],
        categories=["identity", "violence", "legal"],
    )
    support = s.consent(
        "pl-cesano",
        ref,
        kinds=["social_services", "health"],
        purposes=["social_support", "health_assessment"],
        categories=["identity", "safety", "violence"],
    )
    yield at(13, "19:50")
    cav = s.refer(
        "pl-cesano",
        ref,
        "cav-scirocco",
        "psychological_support",
        "routine",
        "Primo colloquio al centro antiviolenza, da lei richiesto.",
        ["identity", "violence", "legal"],
    )
    health = s.refer(
        "pl-cesano",
        ref,
        "asst-rhodense",
        "health_assessment",
        "routine",
        "Visita di controllo.",
        ["identity", "violence"],
    )
    yield at(14, "09:00")
    s.move("pl-cesano", health, Move.WITHDRAW, reason="Ha già un appuntamento al consultorio.")
    s.move("cav-scirocco", cav, Move.ACKNOWLEDGE)
    social = s.refer(
        "pl-cesano",
        ref,
        "ss-cesano",
        "social_support",
        "routine",
        "Valutare un sostegno economico.",
        ["identity", "safety", "violence"],
    )
    yield at(15, "10:00")
    s.move("cav-scirocco", cav, Move.ACCEPT)
    s.move("ss-cesano", social, Move.ACKNOWLEDGE)
    yield at(18, "17:30")
    s.withdraw_consent("pl-cesano", ref, support)
    s.suspended_by(social, "pl-cesano")


def social_services_legal_and_work(s: Story) -> Chapter:
    """Social services: legal advice at the CAV (completed) and a job placement."""
    yield at(16, "10:15")
    ref = s.open_case("ss-cesano")
    s.note("ss-cesano", ref, "identity", "Alias «Utente F.», 39 anni, un figlio maggiorenne.")
    s.note("ss-cesano", ref, "employment", "Ha perso il lavoro per le assenze; nessun reddito.")
    s.note("ss-cesano", ref, "legal", "Separazione in corso; chiede del mantenimento.")
    s.consent(
        "ss-cesano",
        ref,
        kinds=["cav", "employment"],
        purposes=["legal_advice", "job_placement"],
        categories=["identity", "legal", "employment"],
    )
    legal = s.refer(
        "ss-cesano",
        ref,
        "cav-scirocco",
        "legal_advice",
        "routine",
        "Consulenza legale sulla separazione.",
        ["identity", "legal"],
    )
    work = s.refer(
        "ss-cesano",
        ref,
        "afol-metropolitana",
        "job_placement",
        "routine",
        "Percorso di inserimento lavorativo.",
        ["identity", "employment"],
    )
    yield at(17, "09:40")
    s.move("cav-scirocco", legal, Move.ACKNOWLEDGE)
    s.move("cav-scirocco", legal, Move.ACCEPT)
    yield at(18, "11:00")
    s.move("afol-metropolitana", work, Move.ACKNOWLEDGE)
    yield at(19, "14:30")
    s.move("afol-metropolitana", work, Move.ACCEPT, role="coordinator")
    yield at(24, "12:00")
    s.note("cav-scirocco", ref, "legal", "Consulenza svolta; indicata l'avvocata di rete.")
    s.move("cav-scirocco", legal, Move.COMPLETE)


def afol_disclosure(s: Story) -> Chapter:
    """At a job-counselling interview she speaks of control: AFOL refers to the CAV."""
    yield at(25, "10:00")
    ref = s.open_case("afol-metropolitana")
    s.note(
        "afol-metropolitana",
        ref,
        "employment",
        "Orientamento: il partner controlla telefono e stipendio.",
    )
    s.note("afol-metropolitana", ref, "safety", "Contattarla solo tramite l'operatrice AFOL.")
    s.consent(
        "afol-metropolitana",
        ref,
        services=["cav-scirocco"],
        purposes=["psychological_support"],
        categories=["identity", "safety"],
    )
    cav = s.refer(
        "afol-metropolitana",
        ref,
        "cav-scirocco",
        "psychological_support",
        "urgent",
        "Primo contatto con il centro antiviolenza, da lei richiesto.",
        ["identity", "safety"],
    )
    yield at(25, "15:00")
    s.move("cav-scirocco", cav, Move.ACKNOWLEDGE)
    yield at(26, "09:00")
    s.move("cav-scirocco", cav, Move.ACCEPT)


CHAPTERS = (
    cav_utente_a,
    school_mandatory_report,
    school_declined_then_social,
    emergency_room_night,
    police_consent_withdrawn,
    social_services_legal_and_work,
    afol_disclosure,
)
