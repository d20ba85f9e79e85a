// Starts converse.js for this server: WebSocket by default, BOSH with
// ?transport=bosh, the server's first domain, a login form.
(function () {
  'use strict';
  const params = new URLSearchParams(window.location.search);
  const secure = window.location.protocol === 'https:';
  const host = window.location.host;
  const useBosh = params.get('transport') === 'bosh';
  const domain = (window.TERN && window.TERN.domain) || window.location.hostname;
  const settings = {
    assets_path: '/dist/',
    authentication: 'login',
    auto_login: false,
    allow_registration: false,
    allow_logout: true,
    default_domain: domain,
    locked_domain: domain,
    discover_connection_methods: false,
    view_mode: 'fullscreen',
    show_controlbox_by_default: true,
    play_sounds: false,
    i18n: 'en',
    loglevel: params.get('debug') ? 'debug' : 'warn',
    omemo_default: false,
  };
  if (useBosh) {
    settings.bosh_service_url = (secure ? 'https://' : 'http://') + host + '/http-bind';
  } else {
    settings.websocket_url = (secure ? 'wss://' : 'ws://') + host + '/xmpp-websocket';
  }
  window.converse.initialize(settings);
})();
