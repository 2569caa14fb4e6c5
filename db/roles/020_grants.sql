-- Grants inside the Coordinador database (run as nexo_owner after the schema is applied).
-- harness may only read: USAGE on the schemas, EXECUTE on the allowed functions and SELECT on
-- the tables those functions read. Nobody else may execute anything by default.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA nexo FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA story FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE nexo_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

GRANT USAGE ON SCHEMA nexo, story TO harness;

GRANT SELECT ON nexo.snap_servicio, nexo.snap_pod, nexo.snapshot_refresh, nexo.proc_inst,
    nexo.evento, nexo.parametro, nexo.region, nexo.comuna, nexo.centro, nexo.cliente,
    nexo.transportista
TO harness;

GRANT EXECUTE ON FUNCTION
    nexo.fn_dx_centro_control(date, date, text, text, text, text, text, text, text, text, text,
        text, text, text, boolean, text, integer, integer),
    nexo.fn_dx_cola_critica(date, date, text, text, text, text, text, text, text, text, text,
        text, text, text, boolean, text, integer, integer),
    nexo.fn_dx_dimensionamiento(date, date, text, text, text, text, text, text, text, text, text,
        text, text, text, boolean, text, integer, integer),
    nexo.fn_dx_torre_control(date, date, text, text, text, text, text, text, text, text, text,
        text, text, text, boolean, text, integer, integer),
    nexo.fn_dx_auditoria_pod(date, date, text, text, text, text, text, text, text, text, text,
        text, text, text, boolean, text, integer, integer),
    nexo.fn_dx_eta_distribucion(date, date, text, text, text, text, text, text, text, text, text,
        text, text, text, boolean, text, integer, integer),
    nexo.fn_dx_rendimiento_transportista(date, date, text, text, text, text, text, text, text,
        text, text, text, text, text, boolean, text, integer, integer),
    nexo.fn_dx_conteo_servicios(date, date, text, text, text, text, text, text, text, text, text,
        text, text, text, boolean, text, integer, integer),
    nexo.fn_dx_servicio_detalle(text),
    nexo.servicios_filtrados(date, date, text, text, text, text, text, text, text, text, text,
        text, text, text, boolean, text),
    nexo.fn_dx_catalogo(),
    nexo.fn_snapshot_stamps(),
    story.fn_delivery_metrics(date, date, text, text, text),
    story.fn_workflow_events(text, date, date, integer)
TO harness;
