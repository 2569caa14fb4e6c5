"""Chilean and casual fillers: words that carry tone, never a request.

General colloquial Spanish as spoken in Chile (tags, interjections, intensifiers, work slang),
kept here because no stopword list has them. Text matching folds accents and case first, so
each entry is written folded. Multi-word fillers are phrases the tokeniser removes whole.
"""

from __future__ import annotations

FILLER_WORDS = frozenset(
    {
        "po", "pos", "poh", "pue", "pues", "ya", "yapo", "oye", "oiga", "ah", "eh", "uf",
        "cachai", "cachay", "cacha", "cachan", "sipo", "nopo", "nah", "weon", "wn", "weona",
        "hueon", "compa", "compadre", "loco", "hermano", "broder", "bro", "jefe", "jefa",
        "amigo", "amiga", "porfa", "porfis", "plis", "pls", "please", "gracias", "thanks",
        "hola", "hello", "hi", "hey", "buenas", "buenos", "dias", "tardes", "noches",
        "cachar", "onda", "igual", "nomas", "altiro", "harto", "harta",
        "hartos", "hartas", "caleta", "bacan", "fome", "pega", "pegas", "cuestion", "cosa",
        "cosas", "rapidito", "ahorita", "super", "mega", "full",
        "bueno", "vale", "okey", "ok", "okay", "dale", "perfecto", "genial", "pa", "pal",
    }
)  # fmt: skip

FILLER_PHRASES = (
    "al tiro",
    "a la rapida",
    "la raja",
    "por fa",
    "por favor",
    "si es que",
    "o sea",
    "la cosa",
    "en buena",
)

# How a request is put ("dame", "muéstrame", "I need", "desglosado"): never the topic.
REQUEST_WORDS = frozenset(
    {
        "dame", "deme", "denme", "dime", "digame", "muestrame", "muestra", "muestrenme",
        "mostrar", "mostrame", "pasame", "pasa", "pasen", "mandame", "manda", "enviame",
        "envia", "tirame", "traeme", "trae", "necesito", "necesitamos", "necesita",
        "quiero", "queremos", "quisiera", "podrias", "puedes", "puede", "podemos", "saber",
        "ver", "revisar", "revisame", "revisa", "chequear", "chequea", "chequeame", "consultar",
        "consulta", "busca", "buscame", "buscar", "ayudame", "ayuda", "listame", "lista",
        "listar", "listado", "entregame", "indica", "indicame", "informa", "informame",
        "show", "give", "tell", "need", "want", "get", "see", "check", "find", "display",
        "fetch", "pull", "list", "listing", "let", "know", "can", "could", "would", "like",
        # how the answer is laid out, read as a shape cue, not a topic
        "desglosado", "desglosada", "desglosados", "desglosadas", "desglosar", "agrupado",
        "agrupada", "agrupados", "agrupadas", "separado", "separados", "abierto", "abiertos",
    }
)  # fmt: skip
