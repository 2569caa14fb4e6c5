-- Coordinador demo: schema nexo, reference tables and base tables (applied as nexo_owner).
CREATE SCHEMA IF NOT EXISTS nexo;

CREATE TYPE nexo.fecha_tipo AS ENUM ('creacion', 'compromiso', 'entrega', 'eta');

-- Demo parameters: time zone for calendar logic, anchor date, seed and scale of the data.
CREATE TABLE nexo.parametro (
    clave text PRIMARY KEY,
    valor text NOT NULL
);

CREATE TABLE nexo.region (
    nombre text PRIMARY KEY,
    codigo text NOT NULL UNIQUE,
    alias text[] NOT NULL DEFAULT '{}'
);

CREATE TABLE nexo.comuna (
    nombre text PRIMARY KEY,
    region text NOT NULL REFERENCES nexo.region (nombre)
);

CREATE TABLE nexo.centro (
    nombre text PRIMARY KEY,
    region text NOT NULL REFERENCES nexo.region (nombre),
    comuna text NOT NULL REFERENCES nexo.comuna (nombre)
);

CREATE TABLE nexo.cliente (
    nombre text PRIMARY KEY,
    prioritario boolean NOT NULL
);

CREATE TABLE nexo.transportista (
    nombre text PRIMARY KEY,
    capacidad_diaria integer NOT NULL CHECK (capacidad_diaria > 0)
);

CREATE TABLE nexo.servicio (
    id bigint PRIMARY KEY,
    codigo text NOT NULL UNIQUE CHECK (codigo ~ '^SV-[0-9]{7}$'),
    cliente text NOT NULL,
    canal text NOT NULL CHECK (canal IN ('ecommerce', 'retail', 'marketplace')),
    tipo_servicio text NOT NULL CHECK (tipo_servicio IN ('same_day', 'next_day', 'programado')),
    prioridad text NOT NULL CHECK (prioridad IN ('alta', 'media', 'baja')),
    region text NOT NULL,
    comuna text NOT NULL,
    centro text NOT NULL,
    transportista text NOT NULL,
    conductor text,
    patente text CHECK (patente ~ '^[A-Z]{4}-[0-9]{2}$'),
    estado text NOT NULL CHECK (estado IN
        ('pendiente', 'en_transito', 'en_reparto', 'entregado', 'fallido', 'cancelado')),
    fecha_creacion timestamptz NOT NULL,
    fecha_compromiso timestamptz NOT NULL,
    fecha_entrega timestamptz,
    eta timestamptz,
    eta_clasificacion text NOT NULL CHECK (eta_clasificacion IN
        ('a_tiempo', 'en_riesgo', 'atrasado', 'sin_eta')),
    es_critico boolean NOT NULL,
    motivo_critico text,
    intentos smallint NOT NULL DEFAULT 0,
    notas text
);

CREATE TABLE nexo.proc_inst (
    id bigint PRIMARY KEY,
    servicio_id bigint NOT NULL,
    tipo text NOT NULL CHECK (tipo IN ('retiro', 'troncal', 'ultima_milla', 'devolucion')),
    intento smallint NOT NULL DEFAULT 1,
    estado text NOT NULL CHECK (estado IN
        ('pendiente', 'en_curso', 'completado', 'fallido', 'cancelado')),
    inicio timestamptz,
    fin timestamptz,
    conductor text
);

CREATE TABLE nexo.pod (
    servicio_id bigint PRIMARY KEY,
    estado text NOT NULL CHECK (estado IN ('valido', 'faltante', 'rechazado', 'pendiente_revision')),
    foto boolean NOT NULL,
    firma boolean NOT NULL,
    geo boolean NOT NULL,
    distancia_m integer,
    registrado_en timestamptz
);

-- Workflow events of a servicio (creation, legs, failed attempts, reschedules, POD, ...).
CREATE TABLE nexo.evento (
    id bigint PRIMARY KEY,
    servicio_id bigint NOT NULL,
    ocurrido_en timestamptz NOT NULL,
    tipo text NOT NULL,
    detalle text
);
