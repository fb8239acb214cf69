import { parseImageUrl } from '../../src/transfer';

test('an image URL becomes an endpoint, a path and an optional user', () => {
  expect(parseImageUrl('sftp://images@127.0.0.1:2222/ArubaOS_72xx_6.4.0.0_81234')).toEqual({
    endpoint: { protocol: 'sftp', host: '127.0.0.1', port: 2222 },
    path: 'ArubaOS_72xx_6.4.0.0_81234',
    username: 'images',
  });
  expect(parseImageUrl('tftp://10.0.0.5/dir/ArubaOS%2072xx')).toEqual({
    endpoint: { protocol: 'tftp', host: '10.0.0.5' },
    path: 'dir/ArubaOS 72xx',
  });
});

test('bad URLs are refused with a reason', () => {
  expect(() => parseImageUrl('not a url')).toThrow('image URL "not a url" is not a URL');
  expect(() => parseImageUrl('gopher://h/x')).toThrow(
    'image URL protocol "gopher" is not one of ftp, ftps, scp, sftp, tftp, http',
  );
  expect(() => parseImageUrl('ftp://u:secret@h/x')).toThrow(
    'image URL must not contain a password; use a credentials reference',
  );
  expect(() => parseImageUrl('http://h/')).toThrow('names no file');
});
