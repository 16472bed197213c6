// The vendor table: each vendor's published or observed BaseURL shape is recognised, and only it.
import { describe, expect, it } from 'vitest';
import { vendorOf } from '../../src/config/vendors.js';

describe('vendorOf', () => {
  it.each([
    [
      'https://manage.microsoft.com/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=x',
      'Microsoft Intune',
    ],
    [
      'https://manage.microsoft.us/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=x',
      'Microsoft Intune',
    ],
    [
      'https://manage.microsoft.cn/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=x',
      'Microsoft Intune',
    ],
    ['https://acme.jamfcloud.com/servicediscoveryenrollment/v1/userenroll', 'Jamf Pro'],
    ['https://jamf.partner.example:8443/servicediscoveryenrollment/v1/deviceenroll', 'Jamf Pro'],
    ['https://fleet.example/api/mdm/apple/account_driven_enroll', 'Fleet'],
    ['https://fleet.example/api/mdm/apple/account_driven_enroll/abc123', 'Fleet'],
    [
      'https://apple.mdm.jumpcloud.com/user-enroll?organization_id=0123456789abcdef01234567',
      'JumpCloud',
    ],
    ['https://acme.hexnodemdm.com/userenroll/', 'Hexnode'],
    [
      'https://smc-device-if-cloudstation-eu01.prod.hydra.sophos.com/client-api/auto-enrollment/ios-user-enroll-byod/4f1c',
      'Sophos Central',
    ],
    ['https://mdm.manageengine.com/mdm/client/v1/enroll?templateToken=1', 'ManageEngine MDM'],
    ['https://mdm.corp.example:8443/mdm/client/v1/enroll?templateToken=1', 'ManageEngine MDM'],
    ['https://biz-12.business.mosyle.io/api/v2enrollment/enroll/byod', 'Mosyle'],
    [
      'https://app.scalefusion.com/apple/enroll/account_driven_enrollment?enc_data=eA==',
      'Scalefusion',
    ],
    [
      'https://ds1380.airwatchportals.com/DeviceManagement/Enrollment/AccountDrivenUserEnroll',
      'Workspace ONE UEM',
    ],
    ['https://na1.mobileiron.com/c/i/reg/userenroll.mobileconfig', 'Ivanti Neurons for MDM'],
  ])('%s is %s', (url, vendor) => {
    expect(vendorOf(new URL(url))?.vendor).toBe(vendor);
  });

  it.each([
    'https://manage.contoso.com/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=x',
    'https://acme.jamfcloud.com/servicediscoveryenrollment/v1/userenroll/extra',
    'https://apple.mdm.jumpcloud.com.evil.example/user-enroll',
    'https://www.contoso.com/',
    'https://mdm.example.org/enroll',
  ])('%s is no known vendor', (url) => {
    expect(vendorOf(new URL(url))).toBeUndefined();
  });
});
