"""What the simulated Profit environment offers: its GetConnectors and UpdateConnectors.

The GetConnectors ``syncd_debtors`` and ``syncd_creditors`` are the custom connectors the
administrator imports (docs/afas-setup.md); their field ids are the ones in
``mappings/customer.toml`` and ``mappings/supplier.toml``. Each field says where its value
comes from: the relation (debtor or creditor), its organisation, or the organisation's
visit address. ``ModifiedDate`` is the latest of the three tables' own dates, which are
shown too.

The UpdateConnector definitions list the fields syncd and the tests use, with the types
and maximum lengths of AFAS's OpenAPI spec ("Organisaties en personen", v6.6.9).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from syncd.transforms.countries import COUNTRIES


class DataType(StrEnum):
    STRING = "string"
    INT = "int"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"


class Part(StrEnum):
    """Where a GetConnector field reads from."""

    RELATION = "relation"
    ORGANISATION = "organisation"
    ADDRESS = "address"
    KEY = "key"  # the relation's number (DbId / CrId)
    ORG_KEY = "org_key"  # the organisation's number (BcCo)
    MODIFIED = "modified"  # the latest of the three tables' dates
    RELATION_MODIFIED = "relation_modified"
    ORGANISATION_MODIFIED = "organisation_modified"
    ADDRESS_MODIFIED = "address_modified"
    # a contact's row: its person, and the latest of the contact's and the person's dates
    PERSON = "person"
    PERSON_KEY = "person_key"
    PERSON_MODIFIED = "person_modified"
    CONTACT_LATEST = "contact_latest"


@dataclass(frozen=True)
class GetField:
    id: str
    label: str
    type: DataType
    part: Part
    source: str = ""  # the UpdateConnector field id within ``part``
    length: int = 0


@dataclass(frozen=True)
class GetConnector:
    id: str
    description: str
    entity: str
    fields: tuple[GetField, ...]

    def field(self, field_id: str) -> GetField | None:
        return next((f for f in self.fields if f.id == field_id), None)


@dataclass(frozen=True)
class UpdateField:
    id: str
    label: str
    type: DataType
    length: int = 0
    values: tuple[str, ...] = ()  # a code table; empty = free


@dataclass(frozen=True)
class UpdateObject:
    name: str
    description: str
    fields: tuple[UpdateField, ...]
    objects: tuple[UpdateObject, ...] = ()
    required_on_insert: tuple[str, ...] = ()

    def field(self, field_id: str) -> UpdateField | None:
        return next((f for f in self.fields if f.id == field_id), None)

    def child(self, name: str) -> UpdateObject | None:
        return next((o for o in self.objects if o.name == name), None)


@dataclass(frozen=True)
class Entity:
    """A kind of relation: its UpdateConnector, key field and first number."""

    name: str
    update_connector: str
    key: str
    first_number: int
    flag: str  # IsDb / IsCr
    deletable: bool


AFAS_COUNTRY_CODES = tuple(sorted({c.afas for c in COUNTRIES}))

_S, _I, _D, _B, _DT = (
    DataType.STRING,
    DataType.INT,
    DataType.DECIMAL,
    DataType.BOOLEAN,
    DataType.DATE,
)

CONTACT_KEY_FREE_FIELD = "U8B1D4F6A2C9E3B5D7F0A1C3E5B7D9F24"

ADDRESS_FIELDS = (
    UpdateField("CoId", "Land", _S, 3, AFAS_COUNTRY_CODES),
    UpdateField("PbAd", "Postbusadres", _B),
    UpdateField("StAd", "Toevoeging voor straat", _S, 60),
    UpdateField("Ad", "Straat", _S, 60),
    UpdateField("HmNr", "Huisnummer", _I),
    UpdateField("HmAd", "Toev. aan huisnr.", _S, 30),
    UpdateField("ZpCd", "Postcode", _S, 15),
    UpdateField("Rs", "Woonplaats", _S, 50),
    UpdateField("AdAd", "Adres toevoeging", _S, 100),
    UpdateField("BeginDate", "Ingangsdatum wijziging", _DT),
    UpdateField("ResZip", "Woonplaats opzoeken", _B),
)

# A person (KnPerson) and the contact (KnContact) that links it to an organisation. Field
# ids: AFAS help App_Conect_UpdDsc_020/030 and the OAS, with its maximum lengths.
PERSON = UpdateObject(
    "KnPerson",
    "Persoon",
    (
        UpdateField("AutoNum", "Autonummering", _B),
        UpdateField(
            "MatchPer", "Persoon vergelijken op", _S, 1, ("0", "1", "2", "3", "4", "5", "6", "7")
        ),
        UpdateField("BcId", "Interne id", _I),
        UpdateField("BcCo", "Nummer", _S, 15),
        UpdateField("SeNm", "Zoeknaam", _S, 10),
        UpdateField("CaNm", "Roepnaam", _S, 80),
        UpdateField("FiNm", "Voornaam", _S, 50),
        UpdateField("In", "Voorletters", _S, 15),
        UpdateField("Is", "Voorvoegsel", _S, 15),
        UpdateField("LaNm", "Achternaam", _S, 80),
        UpdateField("SpNm", "Geboortenaam apart vastleggen", _B),
        UpdateField("ViGe", "Geslacht", _S, 1, ("M", "O", "V", "X")),
        UpdateField("DaBi", "Geboortedatum", _DT),
        UpdateField("SoSe", "BSN", _S, 9),
        UpdateField("TeNr", "Telefoonnr. werk", _S, 30),
        UpdateField("MbNr", "Mobiel werk", _S, 30),
        UpdateField("EmAd", "E-mail werk", _S, 255),
        UpdateField("TeN2", "Telefoonnr. privé", _S, 30),
        UpdateField("MbN2", "Mobiel privé", _S, 30),
        UpdateField("EmA2", "E-mail privé", _S, 255),
        UpdateField("Corr", "Correspondentie", _B),
    ),
    required_on_insert=("LaNm",),
)

CONTACT = UpdateObject(
    "KnContact",
    "Contact",
    (
        UpdateField("CdId", "Contact", _I),
        UpdateField("BcCoOga", "Code organisatie", _S, 15),
        UpdateField("BcCoPer", "Code persoon", _S, 15),
        UpdateField("ViKc", "Soort contact", _S, 3, ("AFD", "AFL", "PRS", "ORG", "PER")),
        UpdateField("ExAd", "Afdeling", _S),
        UpdateField("ViFu", "Functie", _S),
        UpdateField("FuDs", "Functie op visitekaart", _S, 50),
        UpdateField("TeNr", "Telefoonnr. werk", _S, 30),
        UpdateField("MbNr", "Mobiel werk", _S, 30),
        UpdateField("EmAd", "E-mail werk", _S, 255),
        UpdateField("Bl", "Geblokkeerd", _B),
        UpdateField("Re", "Toelichting", _S),
        # A free field an administrator may add to find a contact again (Profit names
        # free fields by a GUID).
        UpdateField(CONTACT_KEY_FREE_FIELD, "CRM-sleutel", _S, 40),
    ),
    (PERSON,),
)

ORGANISATION = UpdateObject(
    "KnOrganisation",
    "Organisatie",
    (
        UpdateField("PadAdr", "Postadres is adres", _B),
        UpdateField("AutoNum", "Autonummering", _B),
        UpdateField(
            "MatchOga", "Organisatie vergelijken op", _S, 1, ("0", "1", "2", "3", "6", "9")
        ),
        UpdateField("BcId", "Interne id", _I),
        UpdateField("BcCo", "Nummer", _S, 15),
        UpdateField("SeNm", "Zoeknaam", _S, 10),
        UpdateField("Nm", "Naam", _S, 255),
        UpdateField("ViLe", "Rechtsvorm", _S, 10),
        UpdateField("CcNr", "Nummer KvK", _S, 30),
        UpdateField("TeNr", "Telefoonnr. werk", _S, 30),
        UpdateField("MbNr", "Mobiel werk", _S, 30),
        UpdateField("EmAd", "E-mail werk", _S, 255),
        UpdateField("HoPa", "Homepage", _S, 255),
        UpdateField("FiNr", "Fiscaal nummer", _S, 9),
        UpdateField("XpRe", "Externe sleutel", _S, 40),
        UpdateField("Re", "Opmerking", _S, 1000),
    ),
    (
        UpdateObject("KnBasicAddressAdr", "Bezoekadres", ADDRESS_FIELDS),
        UpdateObject("KnBasicAddressPad", "Postadres", ADDRESS_FIELDS),
        CONTACT,
    ),
)

END_DATE_FREE_FIELD = "U5E3C9A1B7D2F4E6A8C0B1D3F5A7C9E2B"
_RELATION_COMMON = (
    UpdateField("CuId", "Valuta", _S, 3),
    UpdateField("PaCd", "Betalingsvoorwaarde", _S, 5),
    UpdateField("VaDu", "Btw-plicht", _S, 3),
    UpdateField("VaId", "Btw-identificatienummer", _S, 21),
    UpdateField("ColA", "Verzamelrekening", _S, 16),
    UpdateField("PfId", "Profiel", _S, 16),
    UpdateField("Iban", "IBAN", _S, 40),
    UpdateField("BaAc", "Bankrekening", _S, 40),
    UpdateField("Bl", "Geblokkeerd voor levering", _B),
    UpdateField("BlTl", "Volledig blokkeren", _B),
    UpdateField("Rm", "Opmerking", _S, 1000),
    # A free field (vrij veld) an administrator added: Profit names those by a GUID.
    UpdateField(END_DATE_FREE_FIELD, "Einddatum relatie", _DT),
)

SALES_RELATION = UpdateObject(
    "KnSalesRelationOrg",
    "Verkooprelatie organisatie",
    (
        UpdateField("DbId", "Nummer debiteur", _S, 16),
        UpdateField("IsDb", "Debiteur", _B),
        UpdateField("Krli", "Kredietlimiet", _D),
        *_RELATION_COMMON,
    ),
    (ORGANISATION,),
    required_on_insert=("CuId",),
)

PURCHASE_RELATION = UpdateObject(
    "KnPurchaseRelationOrg",
    "Inkooprelatie organisatie",
    (
        UpdateField("CrId", "Nummer crediteur", _S, 16),
        UpdateField("IsCr", "Crediteur", _B),
        UpdateField("AuPa", "Automatisch betalen", _B),
        UpdateField("PayM", "Betaalwijze", _S, 1, ("1", "2", "3", "4")),
        *_RELATION_COMMON,
    ),
    (ORGANISATION,),
    required_on_insert=("CuId",),
)

UPDATE_CONNECTORS: Mapping[str, UpdateObject] = {
    o.name: o for o in (SALES_RELATION, PURCHASE_RELATION, ORGANISATION, CONTACT, PERSON)
}
CONTACT_ENTITY = "contact"
# What the simulated environment offers for contacts: KnContact only updates (help
# App_Conect_UpdDsc_030); contacts are added through KnOrganisation.
CONTACT_CONNECTORS = ("KnOrganisation", "KnContact", "KnPerson")

ENTITIES: Mapping[str, Entity] = {
    "customer": Entity("customer", "KnSalesRelationOrg", "DbId", 10001, "IsDb", False),
    "supplier": Entity("supplier", "KnPurchaseRelationOrg", "CrId", 70001, "IsCr", True),
}


def _relation_fields(key_id: str, name_id: str, partly_blocked: str) -> tuple[GetField, ...]:
    P = Part
    return (
        GetField(key_id, "Nummer", _S, P.KEY, length=16),
        GetField("OrganisationId", "Organisatie", _S, P.ORG_KEY, length=15),
        GetField(name_id, "Naam", _S, P.ORGANISATION, "Nm", 255),
        GetField("CocNumber", "Nummer KvK", _S, P.ORGANISATION, "CcNr", 30),
        GetField("VatNumber", "Btw-identificatienummer", _S, P.RELATION, "VaId", 21),
        GetField("Email", "E-mail werk", _S, P.ORGANISATION, "EmAd", 255),
        GetField("Phone", "Telefoonnr. werk", _S, P.ORGANISATION, "TeNr", 30),
        GetField("Website", "Homepage", _S, P.ORGANISATION, "HoPa", 255),
        GetField("Street", "Straat", _S, P.ADDRESS, "Ad", 60),
        GetField("HouseNumber", "Huisnummer", _I, P.ADDRESS, "HmNr"),
        GetField("HouseNumberAddition", "Toev. aan huisnr.", _S, P.ADDRESS, "HmAd", 30),
        GetField("ZipCode", "Postcode", _S, P.ADDRESS, "ZpCd", 15),
        GetField("City", "Woonplaats", _S, P.ADDRESS, "Rs", 50),
        GetField("CountryId", "Land", _S, P.ADDRESS, "CoId", 3),
        GetField("Iban", "IBAN", _S, P.RELATION, "Iban", 40),
        GetField("PaymentCondition", "Betalingsvoorwaarde", _S, P.RELATION, "PaCd", 5),
        GetField("ExternalKey", "Externe sleutel", _S, P.ORGANISATION, "XpRe", 40),
        GetField("Blocked", "Volledig geblokkeerd", _B, P.RELATION, "BlTl"),
        GetField(partly_blocked, "Geblokkeerd", _B, P.RELATION, "Bl"),
        GetField("EndDate", "Einddatum relatie", _DT, P.RELATION, END_DATE_FREE_FIELD),
        GetField("ModifiedDate", "Gewijzigd op", _DT, P.MODIFIED),
        GetField("RelationModifiedDate", "Relatie gewijzigd op", _DT, P.RELATION_MODIFIED),
        GetField(
            "OrganisationModifiedDate", "Organisatie gewijzigd op", _DT, P.ORGANISATION_MODIFIED
        ),
        GetField("AddressModifiedDate", "Adres gewijzigd op", _DT, P.ADDRESS_MODIFIED),
    )


CONTACT_FIELDS: tuple[GetField, ...] = (
    GetField("ContactId", "Contact", _I, Part.RELATION, "CdId"),
    GetField("OrganisationId", "Code organisatie", _S, Part.ORG_KEY, length=15),
    GetField("PersonId", "Code persoon", _S, Part.PERSON_KEY, length=15),
    GetField("FirstName", "Voornaam", _S, Part.PERSON, "FiNm", 50),
    GetField("Initials", "Voorletters", _S, Part.PERSON, "In", 15),
    GetField("Prefix", "Voorvoegsel", _S, Part.PERSON, "Is", 15),
    GetField("LastName", "Achternaam", _S, Part.PERSON, "LaNm", 80),
    GetField("Email", "E-mail werk", _S, Part.RELATION, "EmAd", 255),
    GetField("Phone", "Telefoonnr. werk", _S, Part.RELATION, "TeNr", 30),
    GetField("Mobile", "Mobiel werk", _S, Part.RELATION, "MbNr", 30),
    GetField("Function", "Functie op visitekaart", _S, Part.RELATION, "FuDs", 50),
    GetField("Blocked", "Geblokkeerd", _B, Part.RELATION, "Bl"),
    GetField("CrmKey", "CRM-sleutel", _S, Part.RELATION, CONTACT_KEY_FREE_FIELD, 40),
    GetField("ModifiedDate", "Gewijzigd op", _DT, Part.CONTACT_LATEST),
    GetField("ContactModifiedDate", "Contact gewijzigd op", _DT, Part.RELATION_MODIFIED),
    GetField("PersonModifiedDate", "Persoon gewijzigd op", _DT, Part.PERSON_MODIFIED),
)


@dataclass(frozen=True)
class Environment:
    """The connectors of one simulated environment."""

    get_connectors: Mapping[str, GetConnector] = field(
        default_factory=lambda: {
            c.id: c
            for c in (
                GetConnector(
                    "syncd_debtors",
                    "syncd: debiteuren",
                    "customer",
                    (
                        *_relation_fields("DebtorId", "DebtorName", "BlockedForDelivery"),
                        GetField("CreditLimit", "Kredietlimiet", _D, Part.RELATION, "Krli"),
                    ),
                ),
                GetConnector(
                    "syncd_creditors",
                    "syncd: crediteuren",
                    "supplier",
                    (
                        *_relation_fields("CreditorId", "CreditorName", "TempBlocked"),
                        GetField("AutoPayment", "Automatisch betalen", _B, Part.RELATION, "AuPa"),
                    ),
                ),
                GetConnector("syncd_contacts", "syncd: contactpersonen", "contact", CONTACT_FIELDS),
            )
        }
    )
    update_connectors: Mapping[str, UpdateObject] = field(default_factory=lambda: UPDATE_CONNECTORS)
    entities: Mapping[str, Entity] = field(default_factory=lambda: ENTITIES)

    def connector_for(self, entity: str) -> GetConnector:
        return next(c for c in self.get_connectors.values() if c.entity == entity)

    def entity_of(self, update_connector: str) -> Entity | None:
        return next(
            (e for e in self.entities.values() if e.update_connector == update_connector), None
        )
