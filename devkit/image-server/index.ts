/**
 * Real image servers on loopback — vsftpd (FTP/FTPS), OpenSSH sshd (SFTP/SCP), tftpd-hpa and a
 * node HTTP server — each in its own temp root with its own local user, started and stopped by the
 * caller. The `npm start` demo serves its images with them; the integration tests do too.
 */
export { startFtpServer, type FtpServerOptions } from './ftp';
export { startSshServer, type SshServerOptions } from './ssh';
export { startTftpServer, type TftpServerOptions } from './tftp';
export { startHttpServer, type HttpServerOptions, type LocalHttpServer } from './http';
export type { LocalImageServer } from './types';
export type { ServedFiles } from './files';
export { freeLoopbackAddress } from './address';
