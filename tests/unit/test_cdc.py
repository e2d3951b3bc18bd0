"""The declaration of holders to the Caisse des Dépôts: the file validates against the official schema."""

from datetime import date, datetime, timezone

import xmlschema

from services.jury.cdc import XSD, Award, build, parse_report, schema_errors

HOLDER = {"birth_name": "Martin", "usage_name": None, "first_names": ["Camille", "Marie"], "sex": "F",
          "birth_commune_insee": "75115", "birth_country": "FRA"}


def award(number="RNCP34174-AAAA", route="VAE", holder=HOLDER, birth_date=date(1990, 5, 23)) -> Award:
    return Award(number, "RNCP", "RNCP34174", date(2026, 11, 20), route, holder, birth_date, "Camille Martin")


def test_a_declaration_of_awards_by_every_route_validates_against_the_official_schema():
    document = build([award("RNCP34174-A"), award("RNCP34174-B", route="TRAINING"),
                      award("RNCP34174-C", route="DIRECT_ACCESS", holder={**HOLDER, "usage_name": "Durand"})],
                     "03VML243", "MCFCER000209", "5d079a5d-0a4d-45ac-854d-256b01cacdfe",
                     datetime(2026, 11, 25, 11, 43, tzinfo=timezone.utc))
    assert schema_errors(document) == []
    xmlschema.XMLSchema(XSD).validate(document.decode())  # the library's own check, as a second opinion
    decoded = xmlschema.XMLSchema(XSD).to_dict(document.decode())
    assert decoded["cpf:idFlux"] == "5d079a5d-0a4d-45ac-854d-256b01cacdfe"


def test_a_holder_lacking_civil_data_is_named_with_what_is_missing():
    assert award(holder=None, birth_date=None).lacking() == [
        "birth name", "first names", "sex", "birth commune (INSEE code)", "birth date"]
    assert award().lacking() == []


def test_a_document_breaking_the_schema_says_where():
    document = build([award(holder={**HOLDER, "birth_commune_insee": "7511"})], "03VML243", "C1", "f",
                     datetime(2026, 11, 25, tzinfo=timezone.utc))
    assert any("codeInsee" in error for error in schema_errors(document))


def test_the_processing_report_gives_each_passage_accepted_or_rejected_with_its_messages(tmp_path):
    report = tmp_path / "compte-rendu.xml"
    report.write_text("""<?xml version="1.0" encoding="UTF-8"?>
<compteRendu xmlns="urn:cdc:cpf:pc5:compte-rendu"><idFlux>f-1</idFlux>
  <passagesOK><passage><idTechnique>RNCP34174-A</idTechnique></passage></passagesOK>
  <passagesKO><passage><idTechnique>RNCP34174-B</idTechnique>
    <erreurs><erreur><message>Commune de naissance inconnue</message></erreur></erreurs></passage></passagesKO>
</compteRendu>""")
    flux, outcomes = parse_report(report)
    assert flux == "f-1"
    assert [(o.number, o.accepted, o.messages) for o in outcomes] == [
        ("RNCP34174-A", True, []), ("RNCP34174-B", False, ["Commune de naissance inconnue"])]
