"""The demo catalogue's tool names as SPEC section 5 pins them, for tests of every face."""

DEMO_TOOL_NAMES = frozenset(
    {
        "coordinador_centro_control",
        "coordinador_cola_critica",
        "coordinador_dimensionamiento",
        "coordinador_torre_control",
        "coordinador_auditoria_pod",
        "coordinador_eta_distribucion",
        "coordinador_rendimiento_transportista",
        "coordinador_conteo_servicios",
        "coordinador_servicio_detalle",
        "coordinador_catalogo",
    }
)
