"""Normalisers and codecs: how a native value becomes a canonical one and back.

A field's value travels like this::

    native (CRM)  --crm codec-->  raw text  --normalisers-->  canonical
    native (AFAS) --afas codec--> raw text  --normalisers-->  canonical

and, when writing, ``canonical --codec--> native``.

normaliser
    A function ``str -> str | None`` applied on read to values from *both* sides, so that
    equal meanings compare equal ("020-123 4567" and "+31 20 1234567" are one number).
    Every normaliser is idempotent, ``f(f(x)) == f(x)``: the canonical form is the normal
    form, and a value read back after our own write is unchanged. A value that cannot be
    normalised (an e-mail address without ``@``) raises :class:`RecordError`.
codec
    Translates between the canonical text and one side's native value: AFAS country codes
    ("D") for ISO codes ("DE"), JSON booleans for "true"/"false", a value map from the
    mapping file. A codec round-trips: ``to_canonical(to_native(c)) == c`` for every
    canonical ``c`` it accepts; a value outside its domain raises :class:`RecordError`
    listing the allowed values.

Blank values never reach a normaliser or codec: ``None`` and ``""`` are blank on both
sides, and blank maps to blank.

Modules, by what they hold:

``normalisers``     text, contact details, postcodes and numbers in their normal form
``registrations``   KvK, VAT and IBAN numbers (with their check digits)
``dutch_address``   one address line against AFAS's street, house number and addition
``person_names``    one last name against AFAS's prefix (tussenvoegsel) and last name
``codecs``          the codec protocol, the scalar codecs and mapping files' value maps
``countries``       the countries syncd knows and their AFAS codes and names
``by_name``         the normalisers and codecs a mapping file may name
"""
